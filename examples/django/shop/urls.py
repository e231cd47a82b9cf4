"""The shop's URLs: orders, and Django's admin (whose login page signs staff in to the jobq dashboard too)."""

from django.contrib import admin
from django.urls import path
from orders import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("orders/", views.place_order),
    path("orders/<int:order_id>/receipt", views.receipt),
]
