"""Place an order, and read back what became of its receipt: the order and its task commit together."""

import json

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.tasks import TaskResultStatus
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from orders.models import Order
from orders.tasks import send_receipt


@csrf_exempt  # an API for scripts (curl), authenticated by nothing: an example, not a shop to deploy
@require_POST
def place_order(request: HttpRequest) -> HttpResponse:
    item, email = request.POST.get("item", ""), request.POST.get("email", "")
    if not item:
        return JsonResponse({"error": "item is required"}, status=400)
    with transaction.atomic():  # the order and its receipt's job: both, or neither
        order = Order.objects.create(item=item, email=email)
        result = send_receipt.enqueue(order.id, email=email, item=item)
        order.receipt_task = result.id
        order.save(update_fields=["receipt_task"])
    return JsonResponse({"order": order.id, "receipt_task": result.id}, status=201)


@require_GET
def receipt(request: HttpRequest, order_id: int) -> HttpResponse:
    order = get_object_or_404(Order, id=order_id)
    result = send_receipt.get_result(order.receipt_task)
    body = {"order": order.id, "status": result.status, "attempts": result.attempts,
            "errors": [error.exception_class_path for error in result.errors]}  # fmt: skip
    if result.status == TaskResultStatus.SUCCESSFUL:
        body["return_value"] = result.return_value
    return HttpResponse(json.dumps(body), content_type="application/json")
