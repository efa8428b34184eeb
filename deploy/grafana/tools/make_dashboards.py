# ruff: noqa: E501  (PromQL strings read better unbroken)
"""Writes the provisioned Grafana dashboards (run: python deploy/grafana/tools/make_dashboards.py).

The JSON files are committed; this script keeps the panels consistent (ids, grid, datasource).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "dashboards"
DS = {"type": "prometheus", "uid": "prometheus"}
P = '{province=~"$province"}'
# Durable business series: every metrics replica reports the same totals -> max, not sum.
M = "max without (instance, pod)"


def panel(
    title: str, kind: str, exprs: list[tuple[str, str]], w: int = 12, **extra: Any
) -> dict[str, Any]:
    return {
        "title": title,
        "type": kind,
        "datasource": DS,
        "gridPos": {"w": w, "h": 8},
        "targets": [
            {"refId": chr(65 + i), "expr": e, "legendFormat": legend, "datasource": DS}
            for i, (e, legend) in enumerate(exprs)
        ],
        **extra,
    }


def dashboard(
    uid: str, title: str, panels: list[dict[str, Any]], tags: list[str]
) -> dict[str, Any]:
    x = y = 0
    for i, p in enumerate(panels, 1):
        w = p["gridPos"]["w"]
        if x + w > 24:
            x, y = 0, y + 8
        p["id"] = i
        p["gridPos"].update(x=x, y=y)
        x += w
    return {
        "uid": uid,
        "title": title,
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-30d", "to": "now"},
        "refresh": "1m",
        "tags": tags,
        "templating": {
            "list": [
                {
                    "name": "province",
                    "label": "Provinsi",
                    "type": "query",
                    "datasource": DS,
                    "query": "label_values(lapor_complaints_received_total, province)",
                    "includeAll": True,
                    "multi": True,
                    "current": {"text": "All", "value": "$__all"},
                }
            ]
        },
        "panels": panels,
    }


EVALUATION = dashboard(
    "lapor-evaluation",
    "Lapor - Evaluasi pengelolaan pengaduan / Complaint handling evaluation",
    [
        panel(
            "Pengaduan per kabupaten/kota (365 hari) / Complaints by regency (365 days)",
            "barchart",
            [(f"sort_desc(max by (regency) (lapor_region_complaints_365d{P}))", "{{regency}}")],
        ),
        panel(
            "Wilayah di bawah 50 pengaduan setahun / Regions under 50 a year",
            "table",
            [(f"max by (province, regency) (lapor_region_low_volume{P}) == 1", "{{regency}}")],
        ),
        panel(
            "Diverifikasi <= 3 hari kerja / Verified within 3 working days",
            "stat",
            [('lapor:verify_within_sla:ratio{province=~"$province"}', "{{province}}")],
            w=6,
            fieldConfig={"defaults": {"unit": "percentunit"}},
        ),
        panel(
            "Ditindaklanjuti <= 5 hari kerja / Followed up within 5 working days",
            "stat",
            [('lapor:follow_up_within_sla:ratio{province=~"$province"}', "{{province}}")],
            w=6,
            fieldConfig={"defaults": {"unit": "percentunit"}},
        ),
        panel(
            "Terbuka dan terlambat sekarang / Open and overdue now",
            "timeseries",
            [
                (f"sum by (stage) ({M} (lapor_open_cases{P}))", "terbuka {{stage}}"),
                (f"sum by (stage) ({M} (lapor_overdue_cases{P}))", "terlambat {{stage}}"),
            ],
        ),
        panel(
            "Waktu tindak lanjut p50/p90: provinsi vs kabupaten/kota / Follow-up time by level",
            "timeseries",
            [
                (
                    f"histogram_quantile(0.5, sum by (level, le) ({M} (increase(lapor_time_to_follow_up_seconds_bucket{P}[7d]))))",
                    "p50 {{level}}",
                ),
                (
                    f"histogram_quantile(0.9, sum by (level, le) ({M} (increase(lapor_time_to_follow_up_seconds_bucket{P}[7d]))))",
                    "p90 {{level}}",
                ),
            ],
            fieldConfig={"defaults": {"unit": "s"}},
        ),
        panel(
            "Waktu verifikasi p90 / Time to verify p90",
            "timeseries",
            [
                (
                    f"histogram_quantile(0.9, sum by (province, le) ({M} (increase(lapor_time_to_verify_seconds_bucket{P}[7d]))))",
                    "{{province}}",
                )
            ],
            fieldConfig={"defaults": {"unit": "s"}},
        ),
        panel(
            "Kategori terbanyak (laporan berulang) / Repeat reports by category",
            "barchart",
            [(f"sum by (category) ({M} (lapor_repeat_reports_total{P}))", "{{category}}")],
        ),
        panel(
            "Laporan berulang per instansi / Repeat reports by agency",
            "barchart",
            [
                (
                    f"topk(15, sum by (agency) ({M} (lapor_repeat_reports_by_agency_total{P})))",
                    "{{agency}}",
                )
            ],
        ),
        panel(
            "Bukan wewenang per instansi / Transfers (declines) by agency",
            "barchart",
            [(f"topk(15, sum by (agency) ({M} (lapor_transfers_total{P})))", "{{agency}}")],
        ),
        panel(
            "Eskalasi per tingkat / Escalations by level",
            "barchart",
            [
                (
                    f"sum by (level, stage) ({M} (lapor_escalations_total{P}))",
                    "level {{level}} {{stage}}",
                )
            ],
        ),
        panel(
            "Kepuasan pelapor / Satisfaction (average rating)",
            "stat",
            [
                (
                    f"sum({M} (lapor_rating_points_total{P})) / sum({M} (lapor_ratings_total{P}))",
                    "rata-rata / average",
                ),
                (f"sum by (score) ({M} (lapor_ratings_total{P}))", "skor {{score}}"),
            ],
            w=6,
        ),
        panel(
            "Notifikasi per kanal / Notifications by channel and status",
            "barchart",
            [
                (
                    f"sum by (channel, status) ({M} (lapor_notifications_total{P}))",
                    "{{channel}} {{status}}",
                )
            ],
            w=18,
        ),
    ],
    ["lapor", "evaluation"],
)

OPS = dashboard(
    "lapor-ops",
    "Lapor - Operasional / Operations",
    [
        panel(
            "Layanan hidup / Services up",
            "stat",
            [('up{job=~"lapor-.*"}', "{{job}} {{instance}}")],
            w=24,
        ),
        panel(
            "Lag konsumen / Consumer lag (records)",
            "timeseries",
            [("max by (group, topic) (lapor_consumer_lag_records)", "{{group}} {{topic}}")],
        ),
        panel(
            "Pesan diproses per detik / Messages processed per second",
            "timeseries",
            [
                (
                    "sum by (app_name, handler) (rate(faststream_received_messages_total[5m]))",
                    "{{handler}}",
                )
            ],
        ),
        panel(
            "Dead letters (1 jam / 1 h)",
            "timeseries",
            [
                (
                    "sum by (service, source_topic, reason) (increase(lapor_dead_letters_total[1h]))",
                    "{{service}} {{source_topic}} {{reason}}",
                ),
                ("max(lapor_dead_letter_topic_records)", "lapor.dlq.v1 total"),
            ],
        ),
        panel(
            "Kegagalan batch / Failed batches (redelivered)",
            "timeseries",
            [("sum by (service) (rate(lapor_processing_errors_total[5m]))", "{{service}}")],
        ),
        panel(
            "Outbox tertunda / Outbox pending",
            "timeseries",
            [("max by (service) (lapor_outbox_pending)", "{{service}}")],
        ),
        panel(
            "Outbox terkirim per detik / Outbox published per second",
            "timeseries",
            [("sum by (service) (rate(lapor_outbox_published_total[5m]))", "{{service}}")],
        ),
        panel(
            "Waktu penyimpanan / Store time per second, by command and collection",
            "timeseries",
            [
                (
                    "topk(10, sum by (service, command, collection) "
                    "(rate(lapor_store_command_seconds_total[5m])))",
                    "{{service}} {{command}} {{collection}}",
                )
            ],
        ),
        panel(
            "Dokumen ditulis per detik / Store documents written per second",
            "timeseries",
            [
                (
                    "sum by (service) (rate(lapor_store_documents_total[5m]))",
                    "{{service}}",
                ),
                ("sum(rate(lapor_store_commands_total[5m]))", "commands, all services"),
            ],
        ),
        panel(
            "Notifikasi gagal / Notifications retrying, failed, dead-lettered",
            "timeseries",
            [
                (
                    f'sum by (channel, status) ({M} (lapor_notifications_total{{status=~"retrying|failed|dead_lettered"}}))',
                    "{{channel}} {{status}}",
                )
            ],
        ),
    ],
    ["lapor", "operations"],
)


def main() -> None:
    for d in (EVALUATION, OPS):
        path = OUT / f"{d['uid']}.json"
        path.write_text(json.dumps(d, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(path)


if __name__ == "__main__":
    main()
