"""What a signed-in user's workspace shows around the records: the apps and forms they may
use (`home.my_apps`), their pending approval tasks, the records they changed lately, and
their notifications — each filtered by the same permissions as the API."""
