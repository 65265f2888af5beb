"""The cross-department read side: the order list, order view, timeline and KPIs."""
