"""Provides the impact × urgency priority matrix (ITIL; DOMAIN.md §4)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sdconsole.domain.model import Priority
from sdconsole.i18n import N_

IMPACT_LEVELS = (1, 2, 3)
"""1 high (store cannot sell), 2 medium (one of several tills), 3 low (one user, a question)."""
URGENCY_LEVELS = (1, 2, 3)
"""1 high (now), 2 medium (today), 3 low (can be planned)."""

_MATRIX: dict[tuple[int, int], Priority] = {
    (1, 1): Priority.P1,
    (1, 2): Priority.P2,
    (1, 3): Priority.P3,
    (2, 1): Priority.P2,
    (2, 2): Priority.P3,
    (2, 3): Priority.P4,
    (3, 1): Priority.P3,
    (3, 2): Priority.P4,
    (3, 3): Priority.P4,
}


def priority_for(impact: int, urgency: int) -> Priority:
    """Priority from impact and urgency (1 = high … 3 = low); P5 of the ITIL table folds into P4.

    Raises:
        ValueError: for levels outside 1–3.
    """
    try:
        return _MATRIX[(impact, urgency)]
    except KeyError:
        raise ValueError(f"impact and urgency must be 1-3, got {impact}, {urgency}") from None


# -- signals in the text and the context ------------------------------------------------------

_ALL_DOWN = re.compile(
    r"вс[еёи]\s+касс\w*\s+(?:не\s|стоя|висят|сломал|отключ|легл)"
    r"|ни\s+одн\w+\s+касс"
    r"|(?:магазин|точка)\s+(?:не\s+работает|стоит|закрыт)"
    r"|не\s+можем\s+(?:продавать|торговать|работать|пробить\s+ни)"
    r"|не\s+можем\s+(?:ничего\s+)?пробить"
    r"|торговля\s+(?:стоит|остановлен)"
    r"|продажи\s+(?:стоят|остановлен)"
)
_ONE_OF_SEVERAL = re.compile(
    r"(?:одн\w+|втор\w+|треть\w+)\s+из\s+касс|на\s+одной\s+(?:из\s+)?касс|остальные\s+(?:кассы\s+)?работают"
)
_URGENT = re.compile(
    r"\bсрочно|очень\s+срочн|горит\b|\bочеред[ьи]\b|стоит\s+очередь|покупател\w+\s+ждут"
    r"|\bасап\b|\basap\b|\burgent"
)
_NOT_URGENT = re.compile(
    r"не\s+срочн|когда\s+будет\s+(?:время|возможность)|в\s+плановом\s+порядке|\bвопрос\b"
    r"|подскажите,?\s+как|как\s+(?:сделать|настроить|пробить)"
)
"""The signals, in lower case: they are searched for in the text lowered (three times as fast
as a search that ignores case)."""


@dataclass(frozen=True, slots=True)
class Assessment:
    """Impact, urgency and priority of a new ticket, with the reasons for any change made to the
    category's defaults (message templates and values)."""

    impact: int
    urgency: int
    priority: Priority
    reasons: tuple[tuple[str, dict[str, object]], ...] = ()


def assess(
    impact: int,
    urgency: int,
    text: str,
    *,
    only_till: bool = False,
    raise_impact: bool = False,
) -> Assessment:
    """Priority from the category's impact and urgency, adjusted by what the request says.

    * "all tills down", "the shop cannot sell" → impact 1; "one of the tills", "the others
      work" → impact no higher than 2;
    * "urgent", "a queue of customers" → urgency 1; "not urgent", a how-to question → urgency
      no higher than 2 … kept at 3 when the category says so;
    * `only_till`: the ticket's register is the shop's only one, so a till fault stops the
      shop → impact 1;
    * `raise_impact`: the client's contract raises impact by one level (a VIP client).
    """
    reasons: list[tuple[str, dict[str, object]]] = []
    text = text.lower()
    if impact > 1 and _ALL_DOWN.search(text):
        impact = 1
        reasons.append((N_("the request says the shop cannot sell"), {}))
    elif only_till and impact == 2:
        impact = 1
        reasons.append((N_("the shop's only till"), {}))
    elif impact == 1 and _ONE_OF_SEVERAL.search(text):
        impact = 2
        reasons.append((N_("the other tills work"), {}))
    if urgency > 1 and _URGENT.search(text):
        urgency = 1
        reasons.append((N_("the request says it is urgent"), {}))
    elif urgency == 1 and _NOT_URGENT.search(text):
        urgency = 2
        reasons.append((N_("the request is a question, not an outage"), {}))
    if raise_impact and impact > 1:
        impact -= 1
        reasons.append((N_("the client's contract raises impact by a level"), {}))
    return Assessment(impact, urgency, priority_for(impact, urgency), tuple(reasons))
