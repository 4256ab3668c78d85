"""The SQLAlchemy models of the client test: customers, invoices and lines, which SQLAlchemy
cascades itself (relationship cascade; the foreign keys have no ON DELETE in the database)."""
from sqlalchemy import BigInteger, Column, ForeignKey, Integer, Numeric, Table, Text
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
