/*
 * layering-check: the core's file layering, checked from its symbol tables.
 *
 * The rule (issue 13):
 *   - core/vmx/ is the bottom floor. A file under core/vmx/ may use only
 *     core/vmx/ and core/lib/; a reference from it to any other core file
 *     is an "upward call".
 *   - No circle between files: if file A uses file B, then B must not use A,
 *     directly or through other files.
 * Why: the VMX layer is then a floor that can be read, reused (cvisor-check
 * builds parts of it on its own) and unit-tested without the exit handlers,
 * VMs and devices above it, and every file can be understood from the files
 * below it alone. A circle makes all of its files one unit that can only be
 * changed, tested and linked together.
 *
 * "A uses B" means: A's object has an undefined symbol (nm type U, or weak
 * undefined w/v) that B's object defines as a global (T, D, B, R, W, ...).
 * Calls and data references count alike. Static (lowercase) symbols are
 * file-local: they never satisfy another file's reference, so they make no
 * edge, even when two files have a static of the same name. A reference
 * that no core object defines (the plat_* functions of platform/, say)
 * resolves outside the core and makes no edge.
 *
 * Input: `nm -A` output, from the files named on the command line or from
 * stdin ("-" or no argument). Each line is "OBJECT:ADDRESS TYPE NAME" or
 * "OBJECT: TYPE NAME" (undefined). The object's name is taken relative to the
 * kernel build directory: core/vmx/vcpu.c.o is the source core/vmx/vcpu.c.
 * Objects outside core/ are ignored. Lines starting with '#' and blank lines
 * are skipped. tools/layering-check/run produces this input from a build.
 *
 * Output: each cycle (a strongly connected component of more than one file,
 * found with Tarjan's algorithm) with its files, one circle through it and
 * every edge inside it with one example symbol; each upward call from vmx/;
 * each symbol that two core objects define; with -v, every edge; then one
 * summary line:
 *   layering: N files, M edges, 0 cycles, 0 upward calls from vmx/: OK
 * Exit status 0 when OK, 1 when the check fails, 2 on bad input or usage.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOTTOM_DIR "core/vmx/"
#define LIB_DIR    "core/lib/"

struct def {            /* a global symbol defined by a core file */
	char *name;
	int file;
};

struct ref {            /* an undefined symbol in a core file */
	char *name;
	int file;
};

struct edge {           /* from uses to; sym is the smallest example symbol */
	int from, to;
	const char *sym;
};

static char **files;
static int nfiles, cap_files;
static struct def *defs;
static int ndefs, cap_defs;
static struct ref *refs;
static int nrefs, cap_refs;
static struct edge *edges;
static int nedges, cap_edges;

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "layering-check: out of memory\n");
		exit(2);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xrealloc(NULL, n), s, n);
}

/* A pointer to a new last element of the growable array `arr` (n elements
 * in use, room for cap), doubling its room when it is full. */
#define PUSH(arr, n, cap) \
	((n) == (cap) ? ((cap) = (cap) ? 2 * (cap) : 64, \
			 (arr) = xrealloc((arr), (size_t)(cap) * sizeof(*(arr)))) : (arr), \
	 &(arr)[(n)++])

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The index of source file `src`, added if new. A linear search: the core
 * has a few dozen files, and the input lists one file's lines together. */
static int file_index(const char *src)
{
	for (int i = nfiles - 1; i >= 0; i--)
		if (strcmp(files[i], src) == 0)
			return i;
	*PUSH(files, nfiles, cap_files) = xstrdup(src);
	return nfiles - 1;
}

/* nm types of a global definition: upper case except U (undefined) and
 * N (debugging), plus u (GNU unique global). */
static bool is_global_def(char t)
{
	return (t >= 'A' && t <= 'Z' && t != 'U' && t != 'N') || t == 'u';
}

/* nm types of a reference to another object: U, and weak undefined w/v. */
static bool is_undefined(char t)
{
	return t == 'U' || t == 'w' || t == 'v';
}

/* One line of nm -A output. Returns false if it cannot be parsed. */
static bool parse_line(char *line)
{
	char *colon = strchr(line, ':');
	if (!colon)
		return false;
	*colon = '\0';
	char *obj = line;
	if (starts_with(obj, "./"))
		obj += 2;

	/* After the colon: "[ADDRESS] TYPE NAME". */
	char *tok[3];
	int ntok = 0;
	for (char *t = strtok(colon + 1, " \t\r\n"); t; t = strtok(NULL, " \t\r\n")) {
		if (ntok == 3)
			return false;
		tok[ntok++] = t;
	}
	if (ntok < 2 || strlen(tok[ntok - 2]) != 1)
		return false;
	char type = tok[ntok - 2][0];
	const char *name = tok[ntok - 1];

	/* The source file: the object's name without ".o"; only core/ counts. */
	size_t len = strlen(obj);
	if (len < 3 || strcmp(obj + len - 2, ".o") != 0)
		return false;
	if (!starts_with(obj, "core/"))
		return true;
	obj[len - 2] = '\0';
	int f = file_index(obj);

	if (is_global_def(type))
		*PUSH(defs, ndefs, cap_defs) = (struct def){ xstrdup(name), f };
	else if (is_undefined(type))
		*PUSH(refs, nrefs, cap_refs) = (struct ref){ xstrdup(name), f };
	return true;        /* static symbols: file-local, nothing to record */
}

static int read_input(FILE *in, const char *what)
{
	char line[4096];
	int lineno = 0;
	while (fgets(line, sizeof line, in)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(in)) {
			fprintf(stderr, "layering-check: %s:%d: line too long\n", what, lineno);
			return -1;
		}
		char *p = line + strspn(line, " \t\r\n");
		if (*p == '\0' || *p == '#')
			continue;
		if (!parse_line(line)) {
			fprintf(stderr, "layering-check: %s:%d: not an `nm -A` line\n", what, lineno);
			return -1;
		}
	}
	return 0;
}

static int cmp_def(const void *a, const void *b)
{
	const struct def *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return strcmp(files[x->file], files[y->file]);
}

static int cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;
	int c = strcmp(files[x->from], files[y->from]);
	if (c)
		return c;
	c = strcmp(files[x->to], files[y->to]);
	if (c)
		return c;
	return strcmp(x->sym, y->sym);
}

/* Sort the definitions and report every symbol that two core files define.
 * Returns the number of such symbols. */
static int check_duplicates(void)
{
	int dups = 0;
	qsort(defs, (size_t)ndefs, sizeof *defs, cmp_def);
	for (int i = 1; i < ndefs; i++) {
		if (strcmp(defs[i].name, defs[i - 1].name) != 0)
			continue;
		if (i >= 2 && strcmp(defs[i].name, defs[i - 2].name) == 0)
			continue;   /* reported with the first pair */
		printf("error: %s is defined in more than one core file:", defs[i].name);
		for (int j = i - 1; j < ndefs && strcmp(defs[j].name, defs[i].name) == 0; j++)
			printf(" %s", files[defs[j].file]);
		printf("\n");
		dups++;
	}
	return dups;
}

/* Resolve every reference against the core's definitions and keep one edge
 * per pair of files, with the smallest symbol as its example. */
static void build_edges(void)
{
	for (int i = 0; i < nrefs; i++) {
		const char *name = refs[i].name;
		int lo = 0, hi = ndefs;     /* first definition with this name */
		while (lo < hi) {
			int mid = lo + (hi - lo) / 2;
			if (strcmp(defs[mid].name, name) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == ndefs || strcmp(defs[lo].name, name) != 0)
			continue;       /* defined outside the core */
		if (defs[lo].file == refs[i].file)
			continue;
		*PUSH(edges, nedges, cap_edges) =
			(struct edge){ refs[i].file, defs[lo].file, refs[i].name };
	}
	qsort(edges, (size_t)nedges, sizeof *edges, cmp_edge);
	int n = 0;
	for (int i = 0; i < nedges; i++)
		if (n == 0 || edges[n - 1].from != edges[i].from || edges[n - 1].to != edges[i].to)
			edges[n++] = edges[i];
	nedges = n;
}

/* Tarjan's strongly connected components over files; edges are sorted by
 * source file name, so each file's out-edges are one run of the array. */
static int *edge_start, *edge_end;     /* file -> its run of edges */
static int *order, *low, *stack, *comp;
static bool *on_stack;
static int counter, sp, ncomps;

static void strongconnect(int v)
{
	order[v] = low[v] = counter++;
	stack[sp++] = v;
	on_stack[v] = true;
	for (int e = edge_start[v]; e < edge_end[v]; e++) {
		int w = edges[e].to;
		if (order[w] < 0) {
			strongconnect(w);
			if (low[w] < low[v])
				low[v] = low[w];
		} else if (on_stack[w] && order[w] < low[v]) {
			low[v] = order[w];
		}
	}
	if (low[v] == order[v]) {       /* v is the root of a component */
		int w;
		do {
			w = stack[--sp];
			on_stack[w] = false;
			comp[w] = ncomps;
		} while (w != v);
		ncomps++;
	}
}

static int cmp_file_name(const void *a, const void *b)
{
	return strcmp(files[*(const int *)a], files[*(const int *)b]);
}

/* One circle through `start` inside its component, shortest by breadth-first
 * search, printed as "a -> b -> ... -> a". */
static void print_circle(int start)
{
	int *prev = xrealloc(NULL, (size_t)nfiles * sizeof *prev);
	int *queue = xrealloc(NULL, (size_t)nfiles * sizeof *queue);
	for (int i = 0; i < nfiles; i++)
		prev[i] = -1;
	int head = 0, tail = 0, last = -1;
	queue[tail++] = start;
	while (head < tail && last < 0) {
		int v = queue[head++];
		for (int e = edge_start[v]; e < edge_end[v]; e++) {
			int w = edges[e].to;
			if (comp[w] != comp[start])
				continue;
			if (w == start) {
				last = v;
				break;
			}
			if (prev[w] < 0) {
				prev[w] = v;
				queue[tail++] = w;
			}
		}
	}
	/* Walk back from the last file to start, then print forwards. */
	int n = 0;
	for (int v = last; v != start; v = prev[v])
		queue[n++] = v;
	printf("  one circle: %s", files[start]);
	while (n > 0)
		printf(" -> %s", files[queue[--n]]);
	printf(" -> %s\n", files[start]);
	free(prev);
	free(queue);
}

/* Report every component of more than one file. Returns their number. */
static int check_cycles(void)
{
	edge_start = xrealloc(NULL, (size_t)nfiles * sizeof(int));
	edge_end = xrealloc(NULL, (size_t)nfiles * sizeof(int));
	order = xrealloc(NULL, (size_t)nfiles * sizeof(int));
	low = xrealloc(NULL, (size_t)nfiles * sizeof(int));
	stack = xrealloc(NULL, (size_t)nfiles * sizeof(int));
	comp = xrealloc(NULL, (size_t)nfiles * sizeof(int));
	on_stack = xrealloc(NULL, (size_t)nfiles * sizeof(bool));
	for (int i = 0; i < nfiles; i++) {
		edge_start[i] = edge_end[i] = 0;
		order[i] = -1;
		on_stack[i] = false;
	}
	for (int e = nedges - 1; e >= 0; e--)
		edge_start[edges[e].from] = e;
	for (int e = 0; e < nedges; e++)
		edge_end[edges[e].from] = e + 1;

	/* Visit files in name order so that the output does not depend on the
	 * order of the input. */
	int *by_name = xrealloc(NULL, (size_t)nfiles * sizeof(int));
	for (int i = 0; i < nfiles; i++)
		by_name[i] = i;
	qsort(by_name, (size_t)nfiles, sizeof(int), cmp_file_name);
	for (int i = 0; i < nfiles; i++)
		if (order[by_name[i]] < 0)
			strongconnect(by_name[i]);

	/* Print each component of two files or more once, at its first file. */
	int cycles = 0;
	int *size = xrealloc(NULL, (size_t)ncomps * sizeof(int));
	for (int c = 0; c < ncomps; c++)
		size[c] = 0;
	for (int i = 0; i < nfiles; i++)
		size[comp[i]]++;
	for (int i = 0; i < nfiles; i++) {
		int c = comp[by_name[i]];
		if (size[c] < 2)
			continue;
		cycles++;
		printf("cycle %d: %d files:", cycles, size[c]);
		for (int j = 0; j < nfiles; j++)
			if (comp[by_name[j]] == c)
				printf(" %s", files[by_name[j]]);
		printf("\n");
		print_circle(by_name[i]);
		for (int e = 0; e < nedges; e++)
			if (comp[edges[e].from] == c && comp[edges[e].to] == c)
				printf("  %s -> %s (%s)\n", files[edges[e].from],
				       files[edges[e].to], edges[e].sym);
		size[c] = 0;    /* printed */
	}
	free(size);
	free(by_name);
	return cycles;
}

/* Report every edge from core/vmx/ to a core file outside vmx/ and lib/.
 * Returns their number. */
static int check_bottom_floor(void)
{
	int upward = 0;
	for (int e = 0; e < nedges; e++) {
		const char *from = files[edges[e].from], *to = files[edges[e].to];
		if (!starts_with(from, BOTTOM_DIR) || starts_with(to, BOTTOM_DIR) ||
		    starts_with(to, LIB_DIR))
			continue;
		if (upward++ == 0)
			printf("upward calls from vmx/ (it may use only vmx/ and lib/):\n");
		printf("  %s -> %s (%s)\n", from, to, edges[e].sym);
	}
	return upward;
}

int main(int argc, char **argv)
{
	bool list_edges = false;
	int first = 1;
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: layering-check [-v] [NM_OUTPUT...]\n"
		       "Reads `nm -A` output of the core objects (stdin by default) and checks\n"
		       "that core/vmx/ uses only vmx/ and lib/, and that no files form a cycle.\n"
		       "-v also lists every edge.\n");
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		list_edges = true;
		first = 2;
	}
	if (argc <= first && read_input(stdin, "<stdin>") < 0)
		return 2;
	for (int i = first; i < argc; i++) {
		bool is_stdin = strcmp(argv[i], "-") == 0;
		FILE *in = is_stdin ? stdin : fopen(argv[i], "r");
		if (!in) {
			perror(argv[i]);
			return 2;
		}
		int r = read_input(in, is_stdin ? "<stdin>" : argv[i]);
		if (!is_stdin)
			fclose(in);
		if (r < 0)
			return 2;
	}
	if (nfiles == 0) {
		fprintf(stderr, "layering-check: no core objects in the input\n");
		return 2;
	}

	int dups = check_duplicates();
	build_edges();
	int cycles = check_cycles();
	int upward = check_bottom_floor();
	bool ok = dups == 0 && cycles == 0 && upward == 0;

	if (list_edges) {
		printf("edges:\n");
		for (int e = 0; e < nedges; e++)
			printf("  %s -> %s (%s)\n", files[edges[e].from], files[edges[e].to],
			       edges[e].sym);
	}

	printf("layering: %d files, %d edges, %d cycles, %d upward calls from vmx/",
	       nfiles, nedges, cycles, upward);
	if (dups)
		printf(", %d duplicate symbols", dups);
	printf(": %s\n", ok ? "OK" : "FAILED");
	return ok ? 0 : 1;
}
