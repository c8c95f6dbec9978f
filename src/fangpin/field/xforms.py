"""The forms a phone downloads: XLSForms shipped in field/forms/ (or a county's own in
FANGPIN_FIELD_FORMS_DIR), turned into XForms by pyxform when first asked for and cached by the XLSForm's
hash, so a replaced .xlsx is converted again and an unchanged one never is."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from lxml import etree
from pyxform.xls2xform import convert

SHIPPED = Path(__file__).resolve().parent / "forms"
# form id → its XLSForm file; the id is also the instance's id attribute (settings sheet form_id)
VISIT, CLUE, VERIFY = "fangpin_visit", "fangpin_clue", "fangpin_verify"
FORMS = {VISIT: "visit.xlsx", CLUE: "clue.xlsx", VERIFY: "verify.xlsx"}
XFORMS_NS = "http://www.w3.org/2002/xforms"


@dataclass(frozen=True)
class XForm:
    form_id: str
    title: str
    version: str
    xml: bytes
    # question name → its label in the form, for showing a submission's answers in the form's words
    labels: tuple[tuple[str, str], ...] = ()
    # the CSV lists the form reads (its secondary instances jr://file-csv/<name>), for the manifest
    lists: tuple[str, ...] = ()

    @property
    def md5(self) -> str:
        return hashlib.md5(self.xml).hexdigest()


def xlsform_path(form_id: str) -> Path:
    """The county's own XLSForm when it has one, else the shipped one."""
    name = FORMS[form_id]
    county = getattr(settings, "FANGPIN_FIELD_FORMS_DIR", "")
    if county and (Path(county) / name).is_file():
        return Path(county) / name
    return SHIPPED / name


@lru_cache(maxsize=16)
def _converted(path: str, digest: str) -> XForm:
    cache = Path(settings.DATA_DIR) / "cache" / "xforms" / f"{digest}.xml"
    if cache.is_file():
        xml = cache.read_bytes()
    else:
        xml = convert(xlsform=path, pretty_print=False).xform.encode()
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_bytes(xml)
        tmp.replace(cache)  # another process converting at the same time writes the same bytes
    root = etree.fromstring(xml)
    instance = root.find(f".//{{{XFORMS_NS}}}instance/*")
    title = root.findtext("{http://www.w3.org/1999/xhtml}head/{http://www.w3.org/1999/xhtml}title") or ""
    labels = []
    # a note is a read-only input: its label is a message to the official, not a question answered
    notes = {b.get("nodeset") for b in root.iter(f"{{{XFORMS_NS}}}bind") if b.get("readonly") == "true()"}
    for control in root.find("{http://www.w3.org/1999/xhtml}body").iter():
        ref, label = control.get("ref", ""), control.find(f"{{{XFORMS_NS}}}label")
        # a note's label may be a template (${...}) too: only the questions answered are shown
        if ref.startswith("/") and ref not in notes and label is not None and label.text and len(label) == 0:
            labels.append((ref.rsplit("/", 1)[1], label.text.strip()))
    lists = tuple(
        src.removeprefix("jr://file-csv/")
        for i in root.iter(f"{{{XFORMS_NS}}}instance")
        if (src := i.get("src", "")).startswith("jr://file-csv/")
    )
    return XForm(form_id=instance.get("id"), title=title, version=instance.get("version", ""), xml=xml,
                 labels=tuple(labels), lists=lists)  # fmt: skip


def xform(form_id: str) -> XForm:
    path = xlsform_path(form_id)
    return _converted(str(path), hashlib.sha256(path.read_bytes()).hexdigest())


def xforms() -> list[XForm]:
    return [xform(form_id) for form_id in FORMS]
