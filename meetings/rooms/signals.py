"""What joining tells the features above it, without importing them."""

from blinker import Namespace

_signals = Namespace()

# A host is about to get a token for an occurrence (sender: the Meeting; occurrence=...).
# Meetings set to record themselves start recording then (recordings subscribes).
host_joining = _signals.signal("host-joining")
