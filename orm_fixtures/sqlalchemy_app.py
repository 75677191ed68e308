"""The served shape's handlers on SQLAlchemy: what a list page, a detail page and a write do.

Each handler opens its own session, as a web request does, and returns what the page renders
(plain dicts, serialised to JSON by the app in ``orm_fixtures.served_app``). Objects and their
sessions are dropped when the handler returns: child -> parent -> children -> child cycles are
left for the collector, as in ``request_loop``.
"""

from __future__ import annotations

from typing import Any, Dict, List

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from . import served_app
from .shapes import check_loaded
from .sqlalchemy_models import Child, Parent


def render(child: Any) -> Dict[str, Any]:
    return served_app.render(child, len(child.parent.children))


class Handlers:
    """The endpoints' work on one SQLAlchemy fixture (``orm_fixtures.sqlalchemy_fixture``)."""

    def __init__(self, fixture: Any) -> None:
        self.fixture = fixture

    def page(self, first_row: int, count: int) -> List[Dict[str, Any]]:
        """``count`` children from row ``first_row`` (0-based), parents and siblings loaded."""
        stmt = (
            select(Child)
            .options(joinedload(Child.parent, innerjoin=True).selectinload(Parent.children))
            .where(Child.id >= first_row + 1)
            .order_by(Child.id)
            .limit(count)
        )
        with self.fixture.session() as session:
            children = session.execute(stmt).unique().scalars().all()
            return [render(child) for child in check_loaded(children, count)]

    def write(self, row: int) -> Dict[str, Any]:
        """An UPDATE through the unit of work (flushed), then rolled back: the write path's
        objects and garbage, the dataset left as it was built."""
        with self.fixture.session() as session:
            child = session.get(Child, row + 1)
            child.some_random_number += 1
            session.flush()
            shown = render(child)
            session.rollback()
        return shown
