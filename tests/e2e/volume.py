"""A province's day at volume, entered through intake's staff door (as a clerk would enter
walk-ins): one report, near-identical repeats of it (intake flags them; they wait for a
verifier) and distinct reports that the rules dispatch, all in Kepulauan Riau and marked
with a word of their own so a test finds exactly these."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import httpx

from lapor_kit.auth import DEV_SIGNING_KEY, issue

PLACES = ["21.71", "21.72", "21.01", "21.02", "21.03", "21.04", "21.05"]
SUBJECTS = [
    ("infrastruktur", "Aspal berlubang"),
    ("infrastruktur", "Jembatan lapuk"),
    ("persampahan", "Sampah menumpuk"),
    ("kesehatan", "Puskesmas tutup"),
    ("pendidikan", "Atap kelas bocor"),
    ("kependudukan", "KTP elektronik tertunda"),
    ("perizinan", "Izin usaha lambat"),
    ("bansos", "Bantuan sosial terlambat"),
]
LANDMARKS = [
    "masjid raya",
    "pasar induk",
    "terminal bus",
    "pelabuhan",
    "kantor camat",
    "lapangan bola",
    "gereja",
    "klinik",
    "kampus",
    "stadion",
    "bandara",
    "dermaga",
]
STREETS = [
    "Engku Putri",
    "Sudirman",
    "Hang Tuah",
    "Raja Haji",
    "Diponegoro",
    "Ahmad Yani",
    "Pattimura",
    "Gajah Mada",
    "Imam Bonjol",
    "Teuku Umar",
    "Kartini",
    "Merdeka",
]
KELURAHAN = [
    "Sekupang",
    "Batu Ampar",
    "Lubuk Baja",
    "Nongsa",
    "Bengkong",
    "Sagulung",
    "Batu Aji",
    "Sei Beduk",
    "Galang",
    "Belakang Padang",
    "Bulang",
    "Tanjung Uncang",
]


@dataclass
class Volume:
    marker: str
    original: str
    repeats: list[str]
    others: list[str]

    @property
    def all(self) -> list[str]:
        return [self.original, *self.repeats, *self.others]


async def seed_volume(intake_url: str, marker: str, total: int = 250, repeats: int = 24) -> Volume:
    token = issue(DEV_SIGNING_KEY, subject="petugas.loket", role="national_admin", tenant="*")
    rng = random.Random(marker)
    # each run its own places, so a run is not taken for repeats of an earlier one
    landmarks, streets, kelurahan_names = (
        rng.sample(x, len(x)) for x in (LANDMARKS, STREETS, KELURAHAN)
    )
    async with httpx.AsyncClient(
        base_url=intake_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as api:

        async def enter(body: dict[str, object]) -> str:
            answer = await api.post(
                "/api/v1/staff/complaints",
                json={"channel": "walk_in", "type": "pengaduan", "anonymous": True, **body},
            )
            assert answer.status_code == 202, answer.text
            return str(answer.json()["tracking_id"])

        original = await enter(
            {
                "title": f"Lampu jalan mati di Jalan Engku Putri {marker}",
                "description": "Lampu penerangan jalan di Jalan Engku Putri Batam mati sejak "
                f"seminggu, gelap dan rawan ({marker}).",
                "category": "infrastruktur",
                "region_code": "21.71",
            }
        )
        repeated = []
        for i in range(repeats):
            repeated.append(
                await enter(
                    {
                        "title": f"Lampu jalan Engku Putri mati {marker}",
                        "description": f"Lampu jalan di Jalan Engku Putri Batam mati, sudah "
                        f"seminggu gelap dan rawan ({marker}, warga {i + 1}).",
                        "category": "infrastruktur",
                        "region_code": "21.71",
                    }
                )
            )
        others: list[str] = []
        sem = asyncio.Semaphore(8)

        async def other(i: int) -> None:
            # distinct enough that none is taken for a repeat of another: a short subject
            # and a place of its own (landmark, street and kelurahan differ from every other
            # report of the same category and regency)
            category, subject = SUBJECTS[i % len(SUBJECTS)]
            landmark = landmarks[i % 12]
            street = streets[(i // 12) % 12]
            kelurahan = kelurahan_names[(i // 56) % 12]  # differs within a category and regency
            async with sem:
                others.append(
                    await enter(
                        {
                            "title": f"{subject} {marker}",
                            "description": f"{subject}: {landmark}, Jl {street}, "
                            f"{kelurahan}; {rng.randrange(2, 30)} hari.",
                            "category": category,
                            "region_code": PLACES[i % len(PLACES)],
                        }
                    )
                )

        await asyncio.gather(*(other(i) for i in range(total - 1 - repeats)))
    return Volume(marker, original, repeated, others)
