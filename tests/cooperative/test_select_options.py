"""`{% select_options field %}`: the options of a choice field in one Python loop, escaped, the
current value selected."""

from django import forms
from django.template import Context, Template


class _Form(forms.Form):
    approach = forms.ChoiceField(
        choices=[("", "Any"), ("integrative", "Integrative"), ("x<y", "Tom & Jerry's <b>")],
        required=False,
    )


def _render(data):
    return Template("{% load coop %}{% select_options form.approach %}").render(
        Context({"form": _Form(data)})
    )


def test_the_current_value_is_selected_and_everything_is_escaped():
    html = _render({"approach": "integrative"})
    assert html == (
        '<option value="">Any</option>'
        '<option value="integrative" selected>Integrative</option>'
        '<option value="x&lt;y">Tom &amp; Jerry&#x27;s &lt;b&gt;</option>'
    )


def test_an_unbound_form_selects_the_empty_choice():
    assert _render(None).startswith('<option value="" selected>Any</option>')
