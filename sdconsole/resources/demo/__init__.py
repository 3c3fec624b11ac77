"""Provides the demo store's Russian source data: `world` (directory) and `threads` (tickets).

Everything here is invented: chains, legal entities, people, phone numbers and e-mail domains
(under the reserved ``.example`` top-level domain, so nothing queued in a demo outbox can reach a
real mailbox). Device models, OFD operators and error texts are real-world vocabulary.
"""
