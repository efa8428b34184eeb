"""``lapor-stack``: run the local stack in the background.

lapor-stack up [--demo]   start what is not running, wait until healthy (idempotent)
lapor-stack down          stop what this stack started (by pid file)
lapor-stack status        pids
lapor-stack demo          submit sample reports and print what became of them
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from lapor_kit.auth import DEV_SIGNING_KEY, issue
from lapor_portal.seed import DEV_ACCOUNTS, DEV_PASSWORD

from .demo import run_demo
from .settings import StackSettings
from .stack import SERVICES, Stack


def print_urls(s: StackSettings) -> None:
    print("\nLapor is running:")
    print(f"  portal   {s.url('portal')}  (the citizen portal: write, follow, statistics)")
    print(
        f"  staff    {s.url('portal')}/masuk  (the workspace; development accounts, password "
        f"{DEV_PASSWORD}: {', '.join(u for u, *_ in DEV_ACCOUNTS)})"
    )
    for name in SERVICES:
        base = s.url(name)
        print(
            f"  {name:<8} {base}  (API docs {base}/docs, health {base}/health, "
            f"metrics {base}/metrics)"
        )
    print(
        f"  intake   POST {s.url('intake')}/api/v1/complaints, "
        f"GET {s.url('intake')}/api/v1/categories"
    )
    print(
        f"  open311  {s.url('intake')}/open311/v2/services.xml?jurisdiction_id=63 "
        "(api_key dev-open311-key)"
    )
    print(f"  sms      POST {s.url('intake')}/sms/v1/inbound (Bearer dev-sms-token-kalsel)")
    print(
        f"  notify   GET  {s.url('notify')}/api/v1/notifications?tracking_id=...  "
        "(the reporter's inbox: header X-Lapor-Secret)"
    )
    print(
        f"  sms/wa   http://127.0.0.1:{s.provider_port}/delivered  (the SMS/WhatsApp provider "
        "stand-in; agency webhooks can point at .../send/<name>)"
    )
    print(
        f"  mail     http://127.0.0.1:{s.mail_http_port}/messages  (SMTP sink, port "
        f"{s.smtp_port}; files in {s.var_dir}/mail)"
    )
    print(f"  kafka    {s.kafka_bootstrap} (Tansu)   mongodb {s.mongo_url} (SecantusDB)")
    print(f"  logs     {s.var_dir}/log/   stop with: make down")


def demo(s: StackSettings) -> None:
    print("\nSubmitting sample reports ...")
    views = asyncio.run(run_demo(s))
    for view in views:
        agency = view.get("agency")
        print(
            f"\n  {view['tracking_id']}  [{view['channel']}] {view['category']} "
            f"in {view['region_code']} -> {view['status']}"
        )
        if agency:
            print(f"    agency: {agency['name']} ({agency['id']})")
        if view.get("repeat_of"):
            print(
                f"    repeat of {view['repeat_of']}: waits for a verifier "
                "(same substance as an open report)"
            )
        for note in view["notifications"]:
            print(
                f"    notification: {note['channel']} to {note['recipient_role']}"
                f"{' ' + note['agency_id'] if note.get('agency_id') else ''}"
                f" ({note['cause_event_type']}): {note['status']}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lapor-stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["up", "down", "status", "demo", "token"])
    parser.add_argument("--demo", action="store_true", help="with up: submit sample reports")
    parser.add_argument("--role", default="province_coordinator", help="with token")
    parser.add_argument("--tenant", default="63", help="with token: province code or *")
    parser.add_argument("--subject", default="petugas-demo", help="with token")
    parser.add_argument("--agency-id", help="with token: the agency of an agency_staff token")
    parser.add_argument("--region-code", help="with token: a regency_coordinator's region")
    parser.add_argument("--ttl", type=int, default=8 * 3600, help="with token: seconds")
    args = parser.parse_args(argv)
    s = StackSettings()
    if args.command == "token":
        # signed with the public development key: services trust it only in development
        print(
            issue(
                DEV_SIGNING_KEY,
                subject=args.subject,
                role=args.role,
                tenant=args.tenant,
                agency_id=args.agency_id,
                region_code=args.region_code,
                ttl_seconds=args.ttl,
            )
        )
        return 0
    stack = Stack(s)
    if args.command == "up":
        for name, started in stack.up_all():
            print(f"  {name:<11} {'started' if started else 'already running'}")
        if args.demo:
            demo(s)
        print_urls(s)
    elif args.command == "down":
        stopped = stack.down()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    elif args.command == "status":
        for name, pid in stack.status().items():
            print(f"  {name:<11} {'running, pid ' + str(pid) if pid else 'stopped'}")
    elif args.command == "demo":
        demo(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
