"""Reading `template.yaml`: the one source of truth for tables, routes and functions.

- `loader`: the YAML with CloudFormation's short-form tags, as long-form dicts.
- `intrinsics`: `Resolver`, which resolves `Ref`, `GetAtt`, `Sub`, `Select`, `Split`,
  `Join`, `If`, `FindInMap` against parameters, conditions and physical ids.
- `tables`: the tables' `create_table` arguments, and `create_tables`.
- `functions`: functions with `Globals` merged (`FunctionSpec`).
- `apis`: REST APIs and their routes (`RestApi`, `ApiRoute`).
"""
