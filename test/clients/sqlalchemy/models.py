"""The SQLAlchemy models of the client test: customers, invoices and lines, which SQLAlchemy
cascades itself (relationship cascade; the foreign keys have no ON DELETE in the database)."""
from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Integer, Numeric, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
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
