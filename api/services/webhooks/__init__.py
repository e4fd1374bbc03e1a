"""Webhooks: endpoints that receive the feed's events, signed as Standard Webhooks (endpoints), and the worker that
delivers them (delivery, run by `qualtrack worker`)."""
