"""A blog on PostgreSQL: one page of posts with their authors and comments (SQLAlchemy 1.4/2.0).

Measure it:  ormgc run --workload examples/sqlalchemy_blog.py:blog_page --policy default \\
                 --policy threshold:50000,500,1000 --policy disabled

The database is $ORMGC_POSTGRES_URL, else postgres@127.0.0.1:5432/test; the tables live in their
own schema, filled once. Authors, posts and comments point at each other (back_populates both
ways), so every page leaves reference cycles behind, as a real blog's would.
"""

from __future__ import annotations

import datetime
import os

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    create_engine,
    func,
    select,
)
from sqlalchemy.orm import Session, declarative_base, relationship, selectinload

SCHEMA = "ormgc_example_blog"
AUTHORS, POSTS_PER_AUTHOR, COMMENTS_PER_POST = 100, 20, 5
PAGE = 500  # posts on the page this workload renders

Base = declarative_base(metadata=MetaData(schema=SCHEMA))


class Author(Base):
    __tablename__ = "author"
    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)
    posts = relationship("Post", back_populates="author")


class Post(Base):
    __tablename__ = "post"
    id = Column(Integer, primary_key=True)
    author_id = Column(ForeignKey(Author.id), nullable=False, index=True)
    title = Column(String(200), nullable=False)
    published = Column(DateTime, nullable=False)
    author = relationship(Author, back_populates="posts")
    comments = relationship("Comment", back_populates="post")


class Comment(Base):
    __tablename__ = "comment"
    id = Column(Integer, primary_key=True)
    post_id = Column(ForeignKey(Post.id), nullable=False, index=True)
    body = Column(Text, nullable=False)
    post = relationship(Post, back_populates="comments")


def _url() -> str:
    url = os.environ.get("ORMGC_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _fill(engine) -> None:
    """Create and fill the schema once (a marker: the comments are written last)."""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        Base.metadata.create_all(conn)
        if conn.execute(select(func.count()).select_from(Comment.__table__)).scalar():
            return
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        start = datetime.datetime(2022, 1, 7)
        conn.execute(
            Author.__table__.insert(),
            [{"id": a, "name": f"author {a}"} for a in range(1, AUTHORS + 1)],
        )
        posts = [
            {
                "id": p,
                "author_id": p % AUTHORS + 1,
                "title": f"post {p}",
                "published": start + datetime.timedelta(hours=p),
            }
            for p in range(1, AUTHORS * POSTS_PER_AUTHOR + 1)
        ]
        conn.execute(Post.__table__.insert(), posts)
        comments = [
            {"post_id": post["id"], "body": f"comment {c} on {post['title']}"}
            for post in posts
            for c in range(COMMENTS_PER_POST)
        ]
        conn.execute(Comment.__table__.insert(), comments)


def blog_page():
    """Setup (not measured): connect and fill; yield the page; dispose of the engine after."""
    engine = create_engine(_url())
    _fill(engine)

    def render_page():
        with Session(engine) as session:
            posts = session.scalars(
                select(Post)
                .options(selectinload(Post.author), selectinload(Post.comments))
                .order_by(Post.published.desc())
                .limit(PAGE)
            ).all()
            for post in posts:  # what the template reads
                assert post.author.name and post.title
                assert len(post.comments) == COMMENTS_PER_POST
        return posts  # what was loaded: ormgc records len() of it

    yield render_page
    engine.dispose()
