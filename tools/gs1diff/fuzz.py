# Generates Digital Links and element strings from the GS1 Syntax Dictionary and compares the
# verdicts of ref (GS1 Syntax Engine) and ours (KramaaGS1). Run through run.sh.
import os, random, subprocess, re, sys, collections, urllib.parse
random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
N = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
MUT = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
ais = {}
for line in open(os.environ['GS1SE'] + '/gs1-syntax-dictionary.txt'):
    line = line.split('#')[0].strip()
    if not line: continue
    f = line.split()
    codes = f[0]; rest = f[1:]
    if rest and set(rest[0]) <= set('*?'): rest = rest[1:]
    comps = []; attrs = []
    for t in rest:
        if re.match(r'^\[?[NXYZ]', t): comps.append(t)
        else: attrs.append(t)
    if '-' in codes:
        a, b = codes.split('-'); rng = [str(i).zfill(len(a)) for i in range(int(a), int(b)+1)]
    else: rng = [codes]
    for c in rng: ais[c] = (comps, attrs)
def csum(d):
    s = sum(int(x) * (3 if i % 2 == 0 else 1) for i, x in enumerate(reversed(d)))
    return str((10 - s % 10) % 10)
def gen_comp(c):
    opt = c.startswith('['); c = c.replace('[', '').replace(']', ''); parts = c.split(','); t = parts[0]; checks = parts[1:]
    kind = t[0]; L = t[1:]
    if L.startswith('..'): n = random.randint(1, int(L[2:]))
    else: n = int(L)
    if 'yymmd0' in checks or 'yymmdd' in checks: return '251231'[:n]
    if 'hhmi' in checks: return '1200'
    if 'zero' in checks: return '0'
    if 'pieceoftotal' in checks: return random.choice(['0102', '0303', '0201'])
    if 'csumalpha' in checks: return random.choice(['1987654Ad4X4bL5ttr2310c2K', '12345678901234567890123NT', '1987654Ad4X4bL5ttr2310c2J'])
    if 'iso3166' in checks or 'iso3166999' in checks: return random.choice(['250', '999', '276', '000'])[:n]
    if 'iso4217' in checks: return random.choice(['978', '840', '000'])
    if 'yyyymmdd' in checks: return random.choice(['20250229', '20240229', '20251231', '19000229', '20000229'])
    if 'hh' in checks: return random.choice(['00', '23', '24'])
    if 'mi' in checks or 'ss' in checks: return random.choice(['00', '59', '60'])
    if kind == 'X' and ('gcppos1' in checks):
        return ''.join(random.choice('0123456789') for _ in range(min(n, 4))) + ''.join(random.choice('ABC123-') for _ in range(max(0, n - 4)))
    if kind == 'N':
        d = ''.join(random.choice('0123456789') for _ in range(n))
        if 'csum' in checks: d = d[:-1] + csum(d[:-1])
        if 'nonzero' in checks and set(d) == {'0'}: d = d[:-1] + '1'
        return d
    if kind == 'X':
        alphabet = CSET82 if random.random() < 0.3 else "ABCXYZ0123456789-"
        return ''.join(random.choice(alphabet) for _ in range(n))
    if kind == 'Y': return ''.join(random.choice("#-/0123456789ABCZ") for _ in range(n))
    return ''.join(random.choice("-0123456789ABCZ_abz") for _ in range(n))
def gen_value(ai):
    comps, _ = ais[ai]
    out = ''
    for c in comps:
        if c.startswith('[') and random.random() < 0.5: break
        out += gen_comp(c)
    if random.random() < MUT:
        r = random.random(); i = random.randrange(len(out)) if out else 0
        if r < 0.4: out = out[:i] + random.choice(CSET82 + ' #$@[]{}^`|~\\é') + out[i+1:]
        elif r < 0.6: out = out[:i]
        elif r < 0.8: out = out + random.choice('0123456789AZ')
        else: out = out[:i] + '%' + random.choice(['2', 'zz', '41', '4']) + out[i:]
    return out
pkeys = {a: v for a, v in ais.items() if any(x.startswith('dlpkey') for x in v[1])}
def quals(a):
    for x in ais[a][1]:
        if x.startswith('dlpkey='): return [s.split(',') for s in x[7:].split('|')]
    return [[]]
allais = [a for a in ais if len(a) <= 4 and not a.startswith('9')]
def esc(v): return urllib.parse.quote(v, safe='')
def gen_dl():
    k = random.choice(list(pkeys))
    path = [(k, gen_value(k))]
    seq = random.choice(quals(k))
    for q in seq:
        if random.random() < 0.5: path.append((q, gen_value(q)))
    if random.random() < 0.05:  # misplaced or foreign qualifier
        q = random.choice(allais); path.insert(random.randint(1, len(path)), (q, gen_value(q)))
    if random.random() < 0.1 and len(path) > 2:
        i = random.randint(1, len(path)-2); path[i], path[i+1] = path[i+1], path[i]
    query = []
    for _ in range(random.choice([0, 0, 1, 1, 2, 3])):
        q = random.choice(allais); query.append((q, gen_value(q)))
    if random.random() < 0.2: query.append(('linkType', 'gs1:pip'))
    uri = 'https://id.gs1.org' + ''.join('/%s/%s' % (a, esc(v) if random.random() < 0.9 else v.replace('/', '%2F')) for a, v in path)
    if query: uri += '?' + '&'.join('%s=%s' % (a, esc(v)) for a, v in query)
    return uri, path + [q for q in query if q[0].isdigit()]
def run(exe, lines):
    p = subprocess.run([exe], input=''.join(l + '\n' for l in lines), capture_output=True, text=True)
    return p.stdout.splitlines()
cases = []
for _ in range(N):
    uri, aivals = gen_dl()
    cases.append('V\t' + uri)
    es = ''.join('(%s)%s' % (a, v.replace('(', '\\(')) for a, v in aivals)
    random.shuffle(aivals) if random.random() < 0.3 else None
    cases.append('E\t' + es)
ref = run(os.environ['GS1DIFF_BUILD'] + '/ref', cases); ours = run(os.environ['GS1DIFF_BUILD'] + '/ours', cases)
assert len(ref) == len(ours) == len(cases), (len(ref), len(ours), len(cases))
kinds = collections.Counter(); examples = {}
for c, r, o in zip(cases, ref, ours):
    rv, ov = r.split('\t', 1), o.split('\t', 1)
    if rv[0] != ov[0] or (rv[0] == 'OK' and rv[1] != ov[1]):
        key = (c[0], rv[0], ov[0], re.sub(r'\d+', 'N', (rv[1] if rv[0] == 'ERR' else ov[1]))[:70])
        kinds[key] += 1; examples.setdefault(key, (c, r, o))
for k, n in kinds.most_common():
    print(n, k); print('   ', examples[k][0]); print('    ref:', examples[k][1]); print('    ours:', examples[k][2])
print('cases', len(cases), 'differences', sum(kinds.values()))
