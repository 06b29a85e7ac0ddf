"""A faithful virtual card: file system, GP card manager, LDS and signature apps (DESIGN §4)."""

from personalization.virtual_card.card import VirtualCard
from personalization.virtual_card.faults import CardTorn, FaultPlan
from personalization.virtual_card.state import CardState, kdd_for

__all__ = ["CardState", "CardTorn", "FaultPlan", "VirtualCard", "kdd_for"]
