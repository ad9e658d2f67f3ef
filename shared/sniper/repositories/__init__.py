"""DynamoDB access: the only modules that know table layouts and key shapes."""
