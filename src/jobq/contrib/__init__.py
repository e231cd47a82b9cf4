"""Adapters for frameworks: ``jobq.contrib.django`` (Django's tasks framework). Each needs its own extra."""
