import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings")
application = get_wsgi_application()

from fangpin.common.crypto import require_keys  # noqa: E402 - needs the apps loaded above

# a missing or wrong key file stops the web server at start, not at the first search by ID
require_keys()
