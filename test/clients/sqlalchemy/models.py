"""The SQLAlchemy models of the client test: customers, invoices and lines, which SQLAlchemy
cascades itself (relationship cascade; the foreign keys have no ON DELETE in the database)."""
from sqlalchemy import BigInteger, Boolean, Column, DateTime, ForeignKey, Integer, Interval, Numeric, Table, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class Customer(Base):
    __tablename__ = "customer"
    id = Column(BigInteger, primary_key=True)
    name = Column(Text, nullable=False)
    invoices = relationship("Invoice", cascade="all, delete-orphan", back_populates="customer")


class Invoice(Base):
    __tablename__ = "invoice"
    id = Column(BigInteger, primary_key=True)
    customer_id = Column(BigInteger, ForeignKey("customer.id"))
    worker = Column(Integer, nullable=False, server_default="0")
    amount = Column(Numeric(30, 10))
    big = Column(BigInteger)
    customer = relationship("Customer", back_populates="invoices")
    lines = relationship("InvoiceLine", cascade="all, delete-orphan")


class InvoiceLine(Base):
    __tablename__ = "invoice_line"
    id = Column(BigInteger, primary_key=True)
    invoice_id = Column(BigInteger, ForeignKey("invoice.id"), nullable=False)
    text = Column(Text, nullable=False)


class Ticket(Base):
    """A model that soft-deleted its rows until migration 0004 moved them to the archive."""
    __tablename__ = "ticket"
    id = Column(BigInteger, primary_key=True)
    title = Column(Text, nullable=False)
    amount = Column(Numeric(30, 10), nullable=False)
    deleted_at = Column(DateTime(timezone=True))
    deleted_by = Column(Text)
    delete_reason = Column(Text)


# Made by test/shell/clients.sh in every database: which server backend ran each transaction.
txlog = Table("txlog", Base.metadata, Column("worker", Integer, nullable=False), Column("pid", Integer, nullable=False))


# recipe: sqlalchemy-archive-models
# Read-only models of what the extension owns, on a base of their own: not the migrations'
# metadata, so Alembic never manages them.
ArchiveBase = declarative_base()


class DeletedRecord(ArchiveBase):
    """The archive. Its partitioned parent cannot have a primary key (each partition has its
    own), so the model declares id as the key."""
    __tablename__ = "deleted_record"
    id = Column(UUID(as_uuid=True), primary_key=True)
    data = Column(JSONB, nullable=False)
    deleted_at = Column(DateTime(timezone=True), nullable=False)
    object_id = Column(Text)
    table_name = Column(Text, nullable=False)
    schema_name = Column(Text, nullable=False)
    actor = Column(Text)
    reason = Column(Text)
    xact_id = Column(BigInteger)
    xact_key = Column(Text)
    restored_at = Column(DateTime(timezone=True))


class DeletedInvoice(ArchiveBase):
    """Deleted invoices, typed: the view deleted_record_view('invoice') made. Its key is the
    archive row's id (an invoice deleted twice has two rows)."""
    __tablename__ = "invoice_deleted"
    archive_id = Column(UUID(as_uuid=True), primary_key=True)
    archive_object_id = Column(Text)
    archive_deleted_at = Column(DateTime(timezone=True))
    archive_actor = Column(Text)
    archive_reason = Column(Text)
    archive_xact_key = Column(Text)
    archive_restored_at = Column(DateTime(timezone=True))
    id = Column(BigInteger)
    customer_id = Column(BigInteger)
    worker = Column(Integer)
    amount = Column(Numeric(30, 10))
    big = Column(BigInteger)
# end recipe


# recipe: sqlalchemy-import-models
class DeletedTicket(ArchiveBase):
    """Deleted tickets, typed (deleted_record_view('ticket')): the imported ones too."""
    __tablename__ = "ticket_deleted"
    archive_id = Column(UUID(as_uuid=True), primary_key=True)
    archive_deleted_at = Column(DateTime(timezone=True))
    archive_actor = Column(Text)
    archive_reason = Column(Text)
    archive_restored_at = Column(DateTime(timezone=True))
    id = Column(BigInteger)
    title = Column(Text)
    amount = Column(Numeric(30, 10))
# end recipe


# recipe: sqlalchemy-hold-stats-models
class LegalHold(ArchiveBase):
    """deleted_record_holds: every hold placed and released. It has no key of its own: a name
    is held once at a time, so (name, held_at) names a hold."""
    __tablename__ = "deleted_record_holds"
    name = Column(Text, primary_key=True)
    held_at = Column(DateTime(timezone=True), primary_key=True)
    reason = Column(Text, nullable=False)
    schema_name = Column(Text)
    table_name = Column(Text)
    attachment_ids = Column(ARRAY(UUID(as_uuid=True)))
    object_id = Column(Text)
    deleted_from = Column(DateTime(timezone=True))
    deleted_until = Column(DateTime(timezone=True))
    held_by = Column(Text, nullable=False)
    released_at = Column(DateTime(timezone=True))
    released_by = Column(Text)


class ArchiveStats(ArchiveBase):
    """deleted_record_stats: a row per attached table (kind 'table', schema_name and table_name
    set) and per partition (kind 'partition', partition_name set)."""
    __tablename__ = "deleted_record_stats"
    kind = Column(Text, primary_key=True)
    schema_name = Column(Text)
    table_name = Column(Text, primary_key=True)
    partition_name = Column(Text, primary_key=True)
    period_from = Column(DateTime(timezone=True))
    period_until = Column(DateTime(timezone=True))
    rows_archived = Column(BigInteger)
    rows_restored = Column(BigInteger)
    rows_erased = Column(BigInteger)
    bytes = Column(BigInteger)
    oldest_deleted_at = Column(DateTime(timezone=True))
    newest_deleted_at = Column(DateTime(timezone=True))
    retention = Column(Interval)
    rows_awaiting_purge = Column(BigInteger)
    estimated = Column(Boolean)
# end recipe


# recipe: sqlalchemy-progress-model
class Progress(ArchiveBase):
    """deleted_record_progress: the extension's long operations (purge, import, large restores)
    running now, one row per session, as pg_stat_activity lets the reader see them."""
    __tablename__ = "deleted_record_progress"
    pid = Column(Integer, primary_key=True)
    role_name = Column(Text)
    operation = Column(Text)
    rows_done = Column(BigInteger)
    rows_total = Column(BigInteger)
    rows_left = Column(BigInteger)
    percent_done = Column(Numeric)
    rows_per_second = Column(BigInteger)
    started = Column(DateTime(timezone=True))
# end recipe
