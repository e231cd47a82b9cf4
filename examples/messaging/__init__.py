"""The messaging example: a message-sending service on jobq, the use the queue was first built for.

- ``provider``: ``Message``, ``Receipt``, the ``Provider`` protocol and the errors every provider raises;
- ``mock``: ``MockProvider`` (in process; failures by script, recipient pattern or seeded rate);
- ``http_provider``: ``HttpProvider`` (httpx) for a provider's HTTP API;
- ``fake_server``: that API on loopback, with the same failures and an outage switch;
- ``tasks`` and ``app``: the ``messaging.send`` task and the jobq app that injects the provider;
- ``send``: queue a sample batch (or given recipients).

See README.md beside this file for the walkthrough.
"""
