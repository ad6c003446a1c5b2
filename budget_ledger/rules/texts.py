"""Dutch wording shared by the policies: the reasons and findings a begeleider reads."""

from __future__ import annotations

from datetime import date

from budget_ledger.rules.profiles import CostCategory

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")

CATEGORY_NAMES = {
    CostCategory.HUUR: "huur",
    CostCategory.ZORGVERZEKERING: "zorgverzekering",
    CostCategory.ENERGIE: "energie",
    CostCategory.GAS: "gas",
    CostCategory.WATER: "water",
    CostCategory.STADSVERWARMING: "stadsverwarming",
    CostCategory.GEMEENTELIJKE_BELASTINGEN: "gemeentelijke belastingen",
    CostCategory.OVERIG: "overige vaste last",
}


def month_name(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def day_text(day: date) -> str:
    return day.strftime("%d-%m-%Y")


def category_name(category: CostCategory) -> str:
    return CATEGORY_NAMES[CostCategory(category)]
