"""The raw SQL of the accounts domain (run with api.db.fetch_rows): what the database says about a token, asked on
every authenticated request, and revoking tokens."""

# Whether a token still works, in one statement: its jti revoked, its sign-in family revoked, and the token
# generation of its account or client if that is active (NULL if disabled or gone). Parameters: jti, family, id.
TOKEN_STATE_SQL = {kind: f"""
SELECT EXISTS (SELECT 1 FROM revoked_token WHERE jti = {{p}}),
       EXISTS (SELECT 1 FROM revoked_token_family WHERE family_id = {{p}}),
       (SELECT token_generation FROM {table} WHERE id = {{p}} AND is_active)""" for kind, table in (
    ("account", "account"), ("client", "api_client"))}

# The same for a token a client holds for a person (token exchange): the person's token generation only while they
# accept delegation at the generation the token carries, and the acting client's token generation if it is active.
# Parameters: jti, family, account id, delegation generation, client id.
DELEGATED_TOKEN_STATE_SQL = """
SELECT EXISTS (SELECT 1 FROM revoked_token WHERE jti = {p}),
       EXISTS (SELECT 1 FROM revoked_token_family WHERE family_id = {p}),
       (SELECT token_generation FROM account
         WHERE id = {p} AND is_active AND accepts_delegation AND delegation_generation = {p}),
       (SELECT token_generation FROM api_client WHERE id = {p} AND is_active)"""

# One primary-key lookup. Parameter: jti.
REVOKED_TOKEN_SQL = "SELECT 1 FROM revoked_token WHERE jti = {p}"

# A row back only if this statement revoked the token or family (the insert is the arbiter between racing requests).
REVOKE_TOKEN_SQL = ("INSERT INTO revoked_token (jti, token_type, subject, expires_at, revoked_at) "
                    "VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT (jti) DO NOTHING RETURNING jti")
REVOKE_FAMILY_SQL = ("INSERT INTO revoked_token_family (family_id, subject, expires_at, revoked_at) "
                     "VALUES ({p}, {p}, {p}, {p}) ON CONFLICT (family_id) DO NOTHING RETURNING family_id")
