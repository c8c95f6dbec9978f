from django.core.management.base import BaseCommand

from fangpin.reports.actions import refresh_facts


class Command(BaseCommand):
    help = "刷新统计汇总表（驾驶舱、交叉统计）"

    def handle(self, *args: object, **options: object) -> None:
        stats = refresh_facts()
        self.stdout.write(f"已读取{stats['read']}户，更新{stats['opened']}户，结束{stats['closed']}条旧记录")
