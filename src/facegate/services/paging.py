"""Pages of a long list: the console shows people and rules a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from facegate.domain.errors import ValidationError

PAGE_SIZE = 50
"""Rows on one page of a console list (people, rules)."""
MAX_PAGE = 10_000
"""Highest page number a request may ask for (500,000 rows at :data:`PAGE_SIZE`)."""
MAX_QUERY = 200
"""Longest name search in characters (a person's name is at most 200)."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list.

    Attributes:
        items: the page's rows (empty past the last page).
        total: how many rows the whole list holds.
        number: the page's number, 1-based.
        size: rows per page.
    """

    items: list[T]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages the list fills (at least 1)."""
        return max(1, -(-self.total // self.size))

    @property
    def has_next(self) -> bool:
        """Whether a later page holds rows."""
        return self.number < self.pages


def offset_of(number: int, size: int = PAGE_SIZE) -> int:
    """The index of page ``number``'s first row.

    Raises:
        ValidationError: ``number`` is below 1 or above :data:`MAX_PAGE`.
    """
    if not 1 <= number <= MAX_PAGE:
        raise ValidationError(f"page must be 1 to {MAX_PAGE}, not {number}")
    return (number - 1) * size
