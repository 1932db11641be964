"""SLA clocks: the policies, the working calendar and working time, overdue now."""
