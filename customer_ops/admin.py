from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from customer_ops.admin_base import BaseAdmin, EstimatedCountPaginator, RecentValuesListFilter
from customer_ops.masking import PersonalDataMaskingMixin
from customer_ops.models import Customer, CustomerSession, Order
from customer_ops.panels import customer_viewed, render_panels


@admin.register(Customer)
class CustomerAdmin(PersonalDataMaskingMixin, BaseAdmin):
    list_display = ["id", "full_name", "email", "phone", "status", "created_at"]
    list_filter = ["status"]
    # Trigram indexes on UPPER(col) serve these (customer_ops.models.Customer.Meta.indexes);
    # "=id" lets an agent paste a customer id.
    search_fields = ["=id", "full_name", "email", "phone"]
    readonly_fields = ["created_at", "updated_at"]
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The customer 360 page: the record plus every app's panel."""
        customer = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if customer is not None and self.has_view_or_change_permission(request, customer):
            extra_context["customer_panels"] = render_panels(customer, request)
            customer_viewed.send(sender=Customer, customer=customer, request=request)
        return super().change_view(request, object_id, form_url, extra_context=extra_context)


@admin.register(Order)
class OrderAdmin(PersonalDataMaskingMixin, BaseAdmin):
    masked_relations = ("customer",)  # str(customer) is the customer's name
    list_display = ["order_number", "customer", "service_type", "status", "order_amount", "created_at"]
    list_filter = ["service_type", "status"]
    search_fields = ["=order_number", "=id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["created_at", "updated_at"]
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER


@admin.register(CustomerSession)
class CustomerSessionAdmin(BaseAdmin):
    list_display = ["id", "customer", "device_type", "device_id", "ip_address", "started_at", "ended_at"]
    list_filter = [("device_type", RecentValuesListFilter)]  # free text: no DISTINCT over the table
    search_fields = ["=customer__id", "=device_id", "=ip_address"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER


# Django's own user page, with the project's date and time inputs (accessible names).
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    formfield_overrides = BaseAdmin.formfield_overrides
