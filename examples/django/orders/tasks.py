"""The shop's background work, as Django tasks: jobq runs, retries and dead-letters them."""

from django.core.exceptions import ValidationError
from django.tasks import TaskContext, task


class InvalidAddress(ValidationError):
    """The mail provider refuses the address: no retry can fix it (jobq classifies a ValidationError as a
    ``user_error``: straight to the dead-letter queue, without retries)."""


@task(queue_name="emails", takes_context=True)
def send_receipt(context: TaskContext, order_id: int, email: str, item: str) -> dict[str, object]:
    """E-mail an order's receipt (this example prints it); the return value is kept on the task's result."""
    if "@" not in email:
        raise InvalidAddress(f"cannot e-mail {email!r}")
    print(f"receipt for order {order_id} ({item}) to {email}, attempt {context.attempt}")
    return {"order": order_id, "sent_to": email}
