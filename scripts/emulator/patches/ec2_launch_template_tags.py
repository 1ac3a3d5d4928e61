"""EC2: the launch template's own tags stay off its ``LaunchTemplateData``.

What moto 5.2.5 gets wrong:
  ``CreateLaunchTemplate`` copies the request's ``TagSpecifications`` (resource type
  ``launch-template``: tags on the template itself) into the version's
  ``LaunchTemplateData.TagSpecifications``. AWS keeps them on the template only; ``launch-template``
  is not even a valid resource type inside ``LaunchTemplateData``.

What the AWS provider 5.100.0 does with it:
  ``aws_launch_template`` sends its ``tags`` (``default_tags`` included) as the request's
  ``TagSpecifications`` and reads ``tag_specifications`` from the version data: it finds a
  ``launch-template`` block the config does not have, so every plan removes it and bumps
  ``latest_version`` (perpetual diff).

What the patch does:
  Drops ``launch-template`` entries from ``LaunchTemplateData.TagSpecifications`` when a template is
  created; the template's own tags are kept (``DescribeLaunchTemplates`` still lists them).
"""
from __future__ import annotations


def apply() -> None:
    from moto.ec2.models.launch_templates import LaunchTemplateBackend

    orig = LaunchTemplateBackend.create_launch_template

    def create_launch_template(self, name, description, template_data, tag_spec):  # noqa: ANN001, ANN202
        specs = (template_data or {}).get("TagSpecifications")
        if specs:
            kept = [s for s in specs if s.get("ResourceType") != "launch-template"]
            if kept:
                template_data["TagSpecifications"] = kept
            else:
                template_data.pop("TagSpecifications")
        return orig(self, name, description, template_data, tag_spec)

    LaunchTemplateBackend.create_launch_template = create_launch_template
