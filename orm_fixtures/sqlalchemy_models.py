"""The seed experiment's model, plus a parent/child pair whose objects reference each other.

Declared with ``Column`` on ``declarative_base()`` so that the same module maps on SQLAlchemy
2.0 (our pin) and on 1.4.29 (the seed profile); all queries elsewhere are 2.0-style ``select()``.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class Entry(Base):
    """The seed model: text UUID4 primary key, a date and a number in 1..10,000."""

    __tablename__ = "entry"
    id = Column(String(36), primary_key=True)
    created_date = Column(DateTime, nullable=False)
    some_random_number = Column(Integer, nullable=False)


class Parent(Base):
    __tablename__ = "parent"
    id = Column(Integer, primary_key=True)
    name = Column(String(32), nullable=False)
    children = relationship("Child", back_populates="parent")


class Child(Base):
    __tablename__ = "child"
    id = Column(Integer, primary_key=True)
    parent_id = Column(ForeignKey("parent.id"), nullable=False, index=True)
    created_date = Column(DateTime, nullable=False)
    some_random_number = Column(Integer, nullable=False)
    parent = relationship(Parent, back_populates="children")


class Meta(Base):
    """What the dataset holds; written last, so its presence means the build completed."""

    __tablename__ = "ormgc_meta"
    key = Column(String(32), primary_key=True)
    value = Column(String(64), nullable=False)
