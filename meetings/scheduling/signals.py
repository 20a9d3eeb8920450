"""What schedule changes tell the features above scheduling, without importing them."""

from blinker import Namespace

_signals = Namespace()

# People lost the co-host role of a meeting (sender: the Meeting; users=set of User).
# A live room takes their host controls away at once.
co_hosts_removed = _signals.signal("co-hosts-removed")
