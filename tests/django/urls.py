"""The test project's URLs: Django's admin (its login page is the dashboard's) and one page of its own."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("the Django project")


urlpatterns = [path("admin/", admin.site.urls), path("", home)]
