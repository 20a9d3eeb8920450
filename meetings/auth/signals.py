"""What account changes tell the features above auth, without importing them."""

from blinker import Namespace

_signals = Namespace()

# An account may no longer be used by whoever holds its sessions (sender: the User;
# reason=... a sentence for that person). Live meetings end their media sessions.
sessions_revoked = _signals.signal("sessions-revoked")
