"""Alembic environment for Flask-Migrate.

Migrations are plain SQLAlchemy: our UTCDateTime renders as ``sa.DateTime(timezone=True)`` so
that a migration never imports application code. Objects that only one database has (the
SQLite FTS5 table and the PostgreSQL ``tsv`` column of ``search_documents``) are created by
hand in the migration and ignored by autogenerate.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def include_object(obj, name, type_, reflected, compare_to):
    from server.common.search import include_in_autogenerate

    return include_in_autogenerate(obj, name, type_)


def render_item(type_, obj, autogen_context):
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def process_revision_directives(context_, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=db.metadata,
        literal_binds=True,
        include_object=include_object,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args["compare_type"] = True
    conf_args["render_as_batch"] = db.engine.dialect.name == "sqlite"
    sqlite = db.engine.dialect.name == "sqlite"
    with db.engine.connect() as connection:
        if not sqlite:
            # an index built on a big table may take longer than the app's statement timeout
            app_timeout = connection.exec_driver_sql("SHOW statement_timeout").scalar()
            connection.exec_driver_sql("SET statement_timeout = 0")
            connection.commit()
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one; with foreign keys on,
            # dropping `members` would first delete every row that cascades from it. Off for
            # the run (outside any transaction, where the pragma takes effect), checked after.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            include_object=include_object,
            render_item=render_item,
            **conf_args,
        )
        try:
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if not sqlite:  # the pooled connection goes back as the app expects it
                connection.rollback()
                connection.exec_driver_sql(f"SET statement_timeout = '{app_timeout}'")
                connection.commit()
            if sqlite:
                raw = connection.connection.driver_connection
                broken = raw.execute("PRAGMA foreign_key_check").fetchall()
                raw.execute("PRAGMA foreign_keys = ON")
        if sqlite and broken:
            raise RuntimeError(
                f"migrations left rows whose foreign keys point nowhere: {broken[:5]}"
            )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
