"""Hourly cost of a SageMaker endpoint from a small bundled price table (dated, approximate)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.runtime.errors import StepError

TABLE = Path(__file__).parent.parent / "data" / "prices.json"


@dataclass(frozen=True)
class Estimate:
    per_hour: float | None  # None when the region has no price in the table
    currency: str
    date: str

    def sentence(self, instance_type: str, count: int, region: str) -> str:
        if self.per_hour is None:
            return (f"{count} x {instance_type} in {region}: no price for this region in sagewiz's table "
                    f"(dated {self.date}); see https://aws.amazon.com/sagemaker/pricing/.")
        return (f"{count} x {instance_type} in {region} costs about {self.per_hour:.3f} {self.currency} per hour "
                f"({self.per_hour * 24 * 30:.0f} {self.currency} a month) while the endpoint exists "
                f"(prices of {self.date}).")


@functools.lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TABLE.read_text(encoding="utf-8"))
    return data


def instance_types() -> list[str]:
    return sorted({t for prices in table()["regions"].values() for t in prices})


def check_instance_type(instance_type: str) -> str:
    """Reject an instance type sagewiz does not know, before any call."""
    if instance_type not in instance_types():
        raise StepError(f"Instance type {instance_type!r} is not a SageMaker hosting instance sagewiz knows; "
                        f"choose one of {', '.join(instance_types())} (deploy.instance_type).")
    return instance_type


def estimate(instance_type: str, region: str, count: int = 1) -> Estimate:
    data = table()
    price = data["regions"].get(region, {}).get(check_instance_type(instance_type))
    return Estimate(None if price is None else round(price * count, 3), data["currency"], data["date"])
