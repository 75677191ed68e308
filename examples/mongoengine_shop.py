"""A shop on MongoDB: recent orders with their customers and line items (MongoEngine).

Measure it:  ormgc run --orm mongoengine --workload examples/mongoengine_shop.py:recent_orders

With ``--orm mongoengine``, ormgc starts its embedded MongoDB server (or uses ``--db
mongodb://...``) and hands the URL to the workload in $ORMGC_MONGODB_URL, which is also what to
set to run it against your own server. The documents are inserted once.
"""

from __future__ import annotations

import datetime
import os

import mongoengine
from mongoengine import (
    DateTimeField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentListField,
    IntField,
    ReferenceField,
    StringField,
)

ALIAS = "example_shop"
CUSTOMERS, ORDERS_PER_CUSTOMER, ITEMS_PER_ORDER = 100, 20, 3
RECENT = 1_000  # orders the page shows


class Customer(Document):
    name = StringField(required=True)
    meta = {"db_alias": ALIAS, "collection": "shop_customer"}


class LineItem(EmbeddedDocument):
    sku = StringField(required=True)
    quantity = IntField(required=True)


class Order(Document):
    customer = ReferenceField(Customer, required=True)
    placed = DateTimeField(required=True)
    items = EmbeddedDocumentListField(LineItem)
    meta = {"db_alias": ALIAS, "collection": "shop_order", "indexes": ["-placed"]}


def _fill() -> None:
    if Order.objects.count() == CUSTOMERS * ORDERS_PER_CUSTOMER:
        return
    Customer.drop_collection()
    Order.drop_collection()
    customers = Customer.objects.insert([Customer(name=f"customer {c}") for c in range(CUSTOMERS)])
    start = datetime.datetime(2022, 1, 7)
    orders = [
        Order(
            customer=customers[o % CUSTOMERS],
            placed=start + datetime.timedelta(minutes=o),
            items=[
                LineItem(sku=f"sku-{o % 50}-{i}", quantity=i + 1) for i in range(ITEMS_PER_ORDER)
            ],
        )
        for o in range(CUSTOMERS * ORDERS_PER_CUSTOMER)
    ]
    Order.objects.insert(orders)


def recent_orders():
    """Setup (not measured): connect and fill; yield the page; disconnect after."""
    url = os.environ.get("ORMGC_MONGODB_URL")
    if not url:
        raise RuntimeError("set ORMGC_MONGODB_URL, or run with --orm mongoengine")
    mongoengine.connect(
        db="ormgc_example_shop", host=url, alias=ALIAS, uuidRepresentation="standard"
    )
    _fill()

    def render_page():
        orders = list(Order.objects.order_by("-placed").limit(RECENT).select_related())
        for order in orders:  # what the template reads
            assert order.customer.name and sum(item.quantity for item in order.items) > 0
        return orders

    yield render_page
    mongoengine.disconnect(ALIAS)
