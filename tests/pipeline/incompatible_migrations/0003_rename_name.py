from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ops", "0002_drop_size")]
    operations = [migrations.RenameField(model_name="gadget", old_name="name", new_name="title")]
