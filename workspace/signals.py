"""Signals between domains. Senders never import receivers (chat and approvals never import docsearch).

Domain signals (chat and approvals) are sent inside the sender's transaction, just before it commits,
with keyword arguments named below: a receiver only owes work on the same session (an outbox row,
``workspace.outbox``; a search-index row), so what it owes commits with the change or not at all.
A receiver never commits and never does slow work itself.  Directory and server signals are sent
after their commit (their receivers open their own transactions).
"""

from blinker import Namespace

_signals = Namespace()

# Directory and sign-in (sender: workspace.directory / workspace.auth)
user_changed = _signals.signal("user-changed")  # user_id, created: bool, department_changed: bool
user_deactivated = _signals.signal("user-deactivated")  # user_id
socket_connected = _signals.signal("socket-connected")  # user_id, sid — receivers join server-chosen rooms
socket_disconnected = _signals.signal("socket-disconnected")  # user_id, sid
# lived_in: bool — domains add their demo data (routes always; history, 決裁 and documents when lived_in)
demo_village_created = _signals.signal("demo-village-created")
# (no kwargs) — every domain's demo data is written: derived work (the search index) catches up now
demo_village_ready = _signals.signal("demo-village-ready")
# (no kwargs) — `workspace serve` is about to take requests: catch up on work owed before the start
server_started = _signals.signal("server-started")
# (no kwargs) — `workspace serve` took its last request (SIGTERM/SIGINT): finish background work now
server_stopping = _signals.signal("server-stopping")

# Chat (sender: chat.service)
message_created = _signals.signal("message-created")  # message_id, channel_id
message_edited = _signals.signal("message-edited")  # message_id, channel_id
message_deleted = _signals.signal("message-deleted")  # message_id, channel_id

# Approvals (sender: approvals.service)
approval_changed = _signals.signal("approval-changed")  # request_id, status
# request_id, pdf: the signed record (bytes), attachments: [{id, name, size, sha256, content_type, path}] —
# path is the stored file; receivers may read or copy it, never move or change it.
approval_decided = _signals.signal("approval-decided")
