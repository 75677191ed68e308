"""``gunicorn ormgc.worker.served_wsgi:application``: the served shape's app, built from
``$ORMGC_SERVED_SPEC`` when gunicorn's master preloads it (see ``ormgc.worker.served``)."""

from ormgc.worker.served import application_from_env

application = application_from_env()
