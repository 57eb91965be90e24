"""Deterministic seed data: the same seed number always builds the same store.

`generate(seed)` is pure: customers (a share of them with gift registries, the rest without),
products with prices (a few doorbusters with tiny stock), stock per SKU and registries with
wished items. It imports nothing of shopsim: the services use its types, and shopsim.seed
hands each service its part.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST = (
    "Ada Grace Alan Linus Margaret Ken Barbara Dennis Frances Edsger Radia Tim Hedy Donald "
    "Katherine John Shafi Whitfield Leslie Niklaus Joan Vint Sophie Guido Anita Bjarne Mary "
    "Claude Jean Annie"
).split()
LAST = (
    "Lovelace Hopper Turing Torvalds Hamilton Thompson Liskov Ritchie Allen Dijkstra Perlman "
    "Berners-Lee Lamarr Knuth Johnson Backus Goldwasser Diffie Lamport Wirth Clarke Cerf Wilson "
    "Rossum Borg Stroustrup Keller Shannon Sammet Easley"
).split()
CATEGORIES = ("toys", "nursery", "kitchen", "electronics", "garden", "books", "apparel")
NOUNS = (
    "Stroller Blanket Kettle Headphones Trowel Novel Jacket Rattle Crib Mixer Speaker Planter "
    "Atlas Scarf Mobile Bottle Toaster Charger Hose Journal Mittens"
).split()
ADJECTIVES = "Cozy Deluxe Compact Classic Smart Organic Vintage Bright Quiet Sturdy".split()
REGISTRY_KINDS = ("baby", "wedding", "birthday")


@dataclass(frozen=True)
class Customer:
    id: int
    first_name: str
    last_name: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    description: str
    category: str
    price_cents: int
    doorbuster: bool


@dataclass(frozen=True)
class Registry:
    id: int
    owner_customer_id: int
    kind: str  # baby, wedding, birthday
    title: str
    items: tuple[tuple[str, int], ...]  # (sku, wanted quantity)


@dataclass(frozen=True)
class SeedData:
    seed: int
    customers: tuple[Customer, ...]
    products: tuple[Product, ...]
    stock: tuple[tuple[str, int], ...]  # (sku, on hand)
    registries: tuple[Registry, ...]


def generate(
    seed: int,
    *,
    customers: int = 200,
    products: int = 120,
    doorbusters: int = 5,
    doorbuster_stock: int = 5,
    registry_share: float = 0.25,
) -> SeedData:
    """Build the store for a seed number."""
    rng = random.Random(seed)
    people = tuple(
        Customer(
            id=i,
            first_name=(first := rng.choice(FIRST)),
            last_name=(last := rng.choice(LAST)),
            email=f"{first.lower()}.{last.lower()}.{i}@example.test",
        )
        for i in range(1, customers + 1)
    )
    goods: list[Product] = []
    for i in range(1, products + 1):
        noun, adjective = rng.choice(NOUNS), rng.choice(ADJECTIVES)
        goods.append(
            Product(
                sku=f"SKU-{i:04d}",
                name=f"{adjective} {noun}",
                description=f"A {adjective.lower()} {noun.lower()} for every day.",
                category=rng.choice(CATEGORIES),
                price_cents=rng.randrange(499, 19_999, 100),
                doorbuster=False,
            )
        )
    for i in range(1, doorbusters + 1):
        noun = rng.choice(NOUNS)
        goods.append(
            Product(
                sku=f"DB-{i:04d}",
                name=f"Doorbuster {noun}",
                description=f"Sale-day special: a {noun.lower()} at a price that will not last.",
                category=rng.choice(CATEGORIES),
                price_cents=rng.randrange(99, 2_999, 100),
                doorbuster=True,
            )
        )
    stock = tuple(
        (p.sku, doorbuster_stock if p.doorbuster else rng.randrange(200, 2_000)) for p in goods
    )
    regular = [p.sku for p in goods if not p.doorbuster]
    owners = sorted(rng.sample(range(1, customers + 1), round(customers * registry_share)))
    registries = tuple(
        Registry(
            id=n,
            owner_customer_id=owner,
            kind=(kind := rng.choice(REGISTRY_KINDS)),
            title=f"{people[owner - 1].first_name}'s {kind} registry",
            items=tuple((sku, rng.randint(1, 3)) for sku in rng.sample(regular, 6)),
        )
        for n, owner in enumerate(owners, start=1)
    )
    return SeedData(seed, people, tuple(goods), stock, registries)
