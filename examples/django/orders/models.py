"""An order, and the id of the task that e-mails its receipt."""

from django.db import models


class Order(models.Model):
    item = models.CharField(max_length=200)
    email = models.CharField(max_length=200)
    receipt_task = models.CharField(max_length=64, blank=True)
