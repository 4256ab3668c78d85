# recipe: sqlalchemy-exact-json
import functools
import json
from decimal import Decimal

# create_engine(url, json_deserializer=exact_json_loads): numbers with a fraction in jsonb become
# Decimal, not float, so archived numerics stay exact.
exact_json_loads = functools.partial(json.loads, parse_float=Decimal)
# end recipe
