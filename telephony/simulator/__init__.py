"""A simulated Asterisk PBX that speaks real AMI: the demo's and the tests' phone system.

Generates Asterisk 22 (or, with ``dialect="11"``, Asterisk 11) event sequences shaped like
the lab captures in ``tests/fixtures/ami``. Knows no Django; ``manage.py ami_simulator``
and ``make run`` embed it through ``Simulator``.
"""

from .channels import Call, Channel, Party
from .scenarios import CUSTOMERS, Kind
from .simulator import DEFAULT_EVERY, Simulator

__all__ = ["CUSTOMERS", "DEFAULT_EVERY", "Call", "Channel", "Kind", "Party", "Simulator"]
