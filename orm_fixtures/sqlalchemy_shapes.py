"""SQLAlchemy workload shapes, from full ORM objects down to Core rows.

Each takes what its ``opens`` names (a fresh session or connection) and the number of objects
to load, and returns them; the measurement covers only that call.
"""

from __future__ import annotations

from typing import Any, Dict, List

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .request_loop import RequestLoop
from .shapes import Shape, check_loaded, register
from .sqlalchemy_models import Child, Entry, Parent

SHAPES: Dict[str, Shape] = {}
REQUEST_SHAPES: Dict[str, Shape] = {}
YIELD_PER = 1_000  # rows per fetch for the streaming shape


@register(SHAPES, opens="session")
def seed_loop(session: Any, load: int) -> List[Any]:
    """The published loop: iterate session.query(Entry), append, break at N."""
    # Without yield_per the Query buffers the whole result before the first row is
    # handed out: the seed measured that, so this shape keeps it.
    entries = []
    for entry in session.query(Entry):
        entries.append(entry)
        if len(entries) >= load:
            break
    return check_loaded(entries, load)


@register(SHAPES, opens="session")
def orm_all(session: Any, load: int) -> List[Any]:
    """ORM objects: select(Entry).limit(N), scalars().all()."""
    return check_loaded(session.execute(select(Entry).limit(load)).scalars().all(), load)


@register(SHAPES, opens="session")
def orm_yield_per(session: Any, load: int) -> List[Any]:
    """ORM objects streamed with yield_per(1000)."""
    stmt = select(Entry).limit(load).execution_options(yield_per=YIELD_PER)
    return check_loaded(list(session.execute(stmt).scalars()), load)


@register(SHAPES, opens="session")
def orm_relationships(session: Any, load: int) -> List[Any]:
    """Children with their parents, back_populates both ways (reference cycles)."""
    stmt = (
        select(Child)
        .options(joinedload(Child.parent, innerjoin=True).selectinload(Parent.children))
        .order_by(Child.id)
        .limit(load)
    )
    return check_loaded(session.execute(stmt).unique().scalars().all(), load)


@register(SHAPES, opens="connection")
def core_rows(conn: Any, load: int) -> List[Any]:
    """Core rows: select(entry table).limit(N), no ORM identity map."""
    return check_loaded(conn.execute(select(Entry.__table__).limit(load)).all(), load)


@register(REQUEST_SHAPES, opens="session")
def request_loop(loop: RequestLoop, per_request: int) -> int:
    """R requests: a session each, M children with parent and siblings, touched, dropped."""
    total = 0
    for request in range(loop.requests):
        loop.stamp(request)
        first_id = loop.first_row(request) + 1  # child ids start at 1
        stmt = (
            select(Child)
            .options(joinedload(Child.parent, innerjoin=True).selectinload(Parent.children))
            .where(Child.id >= first_id)
            .order_by(Child.id)
            .limit(per_request)
        )
        with loop.open_session() as session:
            children = session.execute(stmt).unique().scalars().all()
            touched = 0
            for child in children:  # what a handler renders: fields and relationships
                touched += child.some_random_number + child.created_date.day
                touched += len(child.parent.name) + len(child.parent.children)
            total += len(check_loaded(children, per_request)) if touched else 0
        del children  # session closed: parents and children now only hold each other
    loop.stamp(loop.requests)
    return total
