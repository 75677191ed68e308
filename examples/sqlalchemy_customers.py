"""A plain listing: every customer row loaded into one list (SQLAlchemy 1.4/2.0, SQLite in memory).

It makes no garbage: every object it builds is still referenced from the list when the block
ends, so every collection the cyclic GC runs meanwhile finds nothing (issue 19's workload).

Advise on it:  ormgc advise --workload examples/sqlalchemy_customers.py:all_customers --quick

$ORMGC_EXAMPLE_CUSTOMERS sets the number of rows (default 100,000; the tests use fewer).
"""

from __future__ import annotations

import os

from sqlalchemy import Column, Integer, String, create_engine, select
from sqlalchemy.orm import Session, declarative_base

CUSTOMERS = int(os.environ.get("ORMGC_EXAMPLE_CUSTOMERS", "100000"))

Base = declarative_base()


class Customer(Base):
    __tablename__ = "customer"
    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)
    city = Column(String(30), nullable=False)


def all_customers():
    """Every customer, loaded into one list."""
    engine = create_engine("sqlite://")  # set-up, not measured
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(
            Customer(name=f"customer {n}", city=f"city {n % 100}") for n in range(CUSTOMERS)
        )
        session.commit()

    def load():  # measured
        with Session(engine) as session:
            return session.scalars(select(Customer)).all()

    yield load
    engine.dispose()  # clean-up, not measured
