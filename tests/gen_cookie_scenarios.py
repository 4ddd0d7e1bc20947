# Writes tests/cookie_scenarios.json, the corpus of tests/cookie_differential.rs: each context
# (page origin, API host) with each third-party cookie setting, every Set-Cookie rule and every
# held-cookie rule at once. Run: python3 tests/gen_cookie_scenarios.py
import json
P = '{port}'
contexts = [
  # id, page origin, api host, third-party modes
  ('cross-site-localhost-names', 'http://a.localhost:'+P, 'b.localhost', ['blocked', 'allowed']),
  ('cross-site-plain-http', 'http://app.example.com:'+P, 'api.other.com', ['blocked', 'allowed']),
  ('cross-site-ip-to-localhost', 'http://127.0.0.1:'+P, 'localhost', ['blocked', 'allowed']),
  ('same-site-plain-http', 'http://app.example.com:'+P, 'api.example.com', ['blocked']),
  ('same-site-localhost-subdomains', 'http://x.a.localhost:'+P, 'y.a.localhost', ['blocked']),
  ('same-origin-localhost', 'http://localhost:'+P, 'localhost', ['blocked']),
]
def lines(api):
  parent = api.split('.', 1)[1] if api.count('.') >= 2 else api
  return [
    's1=v', 's2=v; SameSite=Lax', 's3=v; SameSite=Strict', 's4=v; SameSite=None', 's5=v; SameSite=None; Secure',
    's6=v; Secure', 's7=v; SameSite=None; Secure; Partitioned', 's8=v; SameSite=None; Partitioned', 's9=v; Secure; Partitioned',
    's10=v; Domain=' + parent, 's11=v; Domain=com', 's12=v; Domain=localhost', 's13=v; Domain=elsewhere.org',
    '__Host-s14=v; Secure; Path=/', '__Host-s15=v; Secure; Path=/; Domain=' + api, '__Secure-s16=v', '__Secure-s17=v; Secure',
    's18=v; Max-Age=0', 's19=v; Expires=Thu, 01 Jan 1970 00:00:00 GMT', 's20=v; Path=/other; SameSite=None; Secure',
    'bare-value', 's22=v; SameSite=None; Secure; HttpOnly; Path=/api',
  ]
def held(api, page_site):
  parent = api.split('.', 1)[1] if api.count('.') >= 2 else None
  out = [
    {'name': 'h1', 'value': 'v'},
    {'name': 'h2', 'value': 'v', 'same_site': 'Lax'},
    {'name': 'h3', 'value': 'v', 'same_site': 'Strict'},
    {'name': 'h4', 'value': 'v', 'same_site': 'None', 'secure': True},
    {'name': 'h5', 'value': 'v', 'secure': True},
    {'name': 'h6', 'value': 'v', 'path': '/other', 'same_site': 'None', 'secure': True},
    {'name': 'h7', 'value': 'v', 'path': '/api', 'same_site': 'None', 'secure': True},
    {'name': 'h8', 'value': 'v', 'same_site': 'None', 'secure': True, 'partitioned': True},
    {'name': 'h9', 'value': 'v', 'same_site': 'None', 'secure': True, 'partitioned': True, 'partition_site': 'https://zzz.com'},
    {'name': 'h10', 'value': 'v', 'domain': 'elsewhere.org', 'same_site': 'None', 'secure': True},
    {'name': 'h11', 'value': 'v', 'path': '/other'},
  ]
  if parent:
    out.append({'name': 'h12', 'value': 'v', 'domain': '.' + parent, 'same_site': 'None', 'secure': True})
    out.append({'name': 'h13', 'value': 'v', 'domain': 'www.' + parent})
    out.append({'name': 'h14', 'value': 'v', 'domain': 'www.' + parent, 'path': '/other', 'secure': True, 'same_site': 'Strict'})
  return out
corpus = []
for cid, page, api, modes in contexts:
  for mode in modes:
    for cred in ['include', 'same-origin']:
      if cred == 'same-origin' and mode == 'allowed':
        continue
      s = {
        'id': f'{cid}/{mode}/{cred}',
        'request': {'url': f'http://{api}:{P}/api/x', 'origin': page, 'credentials': cred},
        'actual_response': {'status': 200, 'headers': {'Set-Cookie': lines(api)}},
        'cookies': held(api, page),
      }
      if mode == 'allowed':
        s['third_party_cookies'] = 'allowed'
      corpus.append(s)
json.dump(corpus, open(__import__('os').path.join(__import__('os').path.dirname(__file__), 'cookie_scenarios.json'), 'w'), indent=1)
print(len(corpus))
