"""Demo customers for trying the console out: varied, realistic, and made through the rules."""

import random
import re

from app.common import Address
from app.customers import rules
from app.problems import Problem

PREFIXES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Pied Piper",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Gringotts",
    "Aperture",
    "Black Mesa",
    "Nakatomi",
    "Oscorp",
    "Massive Dynamic",
    "Dunder Mifflin",
    "Bluth",
    "Prestige",
    "Monarch",
    "Zorg",
    "Duff",
    "Kruger",
    "Nordlys",
    "Szeged",
    "Balaton",
    "Fjord",
    "Sakura",
    "Andes",
    "Sahara",
    "Danube",
    "Kiwi",
    "Ørsted",
    "Müller",
    "Café Zürich",
    "Łódź",
    "Škoda",
    "São Paulo",
]
SUFFIXES = [
    "Industries",
    "Labs",
    "Analytics",
    "Cloud",
    "Logistics",
    "Media",
    "Health",
    "Robotics",
    "Foods",
    "Energy",
    "Systems",
    "Studio",
    "Bank",
    "Telecom",
    "Games",
    "Ventures",
    "Kft.",
    "GmbH",
    "Ltd",
    "Inc.",
    "S.A.",
    "AB",
    "K.K.",
    "BV",
]
PLACES = [
    ("US", "USD", "San Francisco", "CA", "94107"),
    ("US", "USD", "Austin", "TX", "73301"),
    ("DE", "EUR", "Berlin", None, "10115"),
    ("FR", "EUR", "Lyon", None, "69001"),
    ("HU", "HUF", "Budapest", None, "1051"),
    ("GB", "GBP", "Manchester", None, "M1 1AE"),
    ("JP", "JPY", "Osaka", None, "530-0001"),
    ("SE", "SEK", "Malmö", None, "211 19"),
    ("BR", "BRL", "São Paulo", "SP", "01000-000"),
    ("IN", "INR", "Bengaluru", "KA", "560001"),
    ("CA", "CAD", "Toronto", "ON", "M5H 2N2"),
    ("CH", "CHF", "Zürich", None, "8001"),
]
STREETS = ["Main Street", "Market St", "Andrássy út", "Unter den Linden", "King Street", "Rua Augusta"]
PLANS = ["free", "starter", "pro", "enterprise"]
REGIONS = ["us-east-1", "eu-west-1", "ap-northeast-1"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def seed_customers(count: int, seed: int) -> tuple[int, int]:
    """Create `count` demo customers; ones whose key is already taken are skipped, so reruns are safe."""
    rng = random.Random(seed)
    created = skipped = 0
    for n in range(count):
        name = f"{rng.choice(PREFIXES)} {rng.choice(SUFFIXES)}"
        key = f"{_slug(name)}-{n:04d}"
        country, currency, city, state, postal = rng.choice(PLACES)
        subjects = [key] if rng.random() < 0.7 else []
        subjects += [f"{key}-{rng.choice(['api', 'worker', 'edge', 'batch'])}-{i}" for i in range(rng.randint(0, 3))]
        data = rules.CustomerInput(
            name=name,
            key=key if rng.random() < 0.9 or not subjects else None,
            description=rng.choice(
                [None, "Migrated from the legacy billing system.", "Annual contract; invoices in arrears."]
            ),
            primary_email=f"billing@{_slug(name)}.example" if rng.random() < 0.8 else None,
            currency=currency if rng.random() < 0.85 else None,
            billing_address=Address(
                country=country,
                city=city,
                state=state,
                postal_code=postal,
                line1=f"{rng.randint(1, 300)} {rng.choice(STREETS)}",
            )
            if rng.random() < 0.75
            else None,
            subject_keys=subjects,
            metadata={"plan": rng.choice(PLANS), "region": rng.choice(REGIONS)} if rng.random() < 0.6 else {},
        )
        if data.key is None and not data.subject_keys:
            data.key = key
        try:
            rules.create(data)
            created += 1
        except Problem:
            skipped += 1
    return created, skipped
