# The tasks of bench/find.sh: TASKS tasks for one user, as curl config files (one POST per task,
# spread over JOBS files, each sent by one curl over one keep-alive connection), and the number of
# tasks each query shape of find.sh must find (X-Total-Count), printed as "SHAPE LOW HIGH" lines.
#
#   awk -v tasks=100000 -v jobs=8 -v seed=21 -v today=DAYS -v url=URL -v token=TOKEN \
#       -v out=DIR -f bench/find.awk
#
# today is the day number (days since 1970-01-01, UTC) the dues are spread around. Portable awk
# (no gawk extensions): the same seed gives the same tasks with the same awk.
#
# The tasks: titles "Verb object [qualifier]" drawn from word lists with Zipf-like weights (a few
# words are common, most are rare, as in a real list), so that a search finds a realistic
# fraction; half have a description of a few words; 30 % completed; priorities none 40 %, low
# 20 %, medium 25 %, high 15 %; 0 to 3 of 20 tags (0: 25 %, 1: 40 %, 2: 25 %, 3: 10 %), the
# common ones more often; half with a due date, spread evenly over today ± 365 days, a quarter of
# those timed (08:00 to 18:45) in Europe/Berlin, America/New_York or Asia/Tokyo.

function words(list, arr, weight,   n, i) {
    n = split(list, arr, " ")
    weight[0] = 0
    for (i = 1; i <= n; i++) weight[i] = weight[i - 1] + 1 / i
    return n
}
# pick(N, WEIGHT): an index 1..N, index i with weight 1/i.
function pick(n, weight,   r, lo, hi, mid) {
    r = rand() * weight[n]
    lo = 1
    hi = n
    while (lo < hi) {
        mid = int((lo + hi) / 2)
        if (weight[mid] >= r) hi = mid
        else lo = mid + 1
    }
    return lo
}
# ymd(DAYS): the civil date of a day number (H. Hinnant's days_from_civil, inverted).
function ymd(z,   era, doe, yoe, y, doy, mp, d, m) {
    z += 719468
    era = int(z / 146097)
    doe = z - era * 146097
    yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
    y = yoe + era * 400
    doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
    mp = int((5 * doy + 2) / 153)
    d = doy - int((153 * mp + 2) / 5) + 1
    m = mp < 10 ? mp + 3 : mp - 9
    if (m <= 2) y++
    return sprintf("%04d-%02d-%02d", y, m, d)
}
# has_prefix(TEXT, PREFIX): some word of TEXT (lower case, words split at anything but letters and
# digits) starts with PREFIX.
function has_prefix(text, prefix,   n, w, i) {
    n = split(text, w, /[^a-z0-9]+/)
    for (i = 1; i <= n; i++)
        if (substr(w[i], 1, length(prefix)) == prefix) return 1
    return 0
}
BEGIN {
    if (tasks == "" || jobs == "" || today == "" || url == "" || token == "" || out == "") {
        print "find.awk: tasks, jobs, today, url, token and out are required" > "/dev/stderr"
        exit 2
    }
    srand(seed == "" ? 21 : seed)
    nv = words("buy call email write review fix plan book pay send clean update prepare check order schedule finish read submit cancel renew print return test draft sign file water repair backup", verb, wv)
    no = words("report milk client invoice dentist car taxes garden kitchen slides budget meeting flight hotel tickets passport insurance contract presentation newsletter website server laptop printer birthday gift groceries bread eggs coffee documents receipts bike plants roof heating lease bank doctor vet school homework recipe library books shoes jacket phone charger keys photos album agenda minutes proposal estimate quote release changelog database migration tests docs windows gutters boiler parcel subscription", obj, wo)
    nq = words("for-Anna with-Ben before-Friday for-the-team at-home at-the-office for-mum with-Clara next-week this-weekend for-Dmitri after-lunch by-Monday with-the-landlord for-the-kids", qual, wq)
    nn = words("ask about the new price remember need back before after lunch morning evening urgent later maybe again confirm details number address list notes draft version final second monday tuesday friday weekend quote from last year and to with for it them call email", note, wn)
    nt = words("work home errands finance health family shopping travel garden car school urgent someday waiting calls email reading projects admin personal", tag, wt)
    split("Europe/Berlin America/New_York Asia/Tokyo", zone, " ")
    split("none low medium high", prio, " ")

    # The query shapes' parameters (find.sh builds the same URLs from these).
    q_tag = "work"
    q_a = "rep"
    q_b = "cli"
    range_from = today
    range_to = today + 29

    for (i = 1; i <= tasks; i++) {
        title = verb[pick(nv, wv)] " " obj[pick(no, wo)]
        if (rand() < 0.5) { q = qual[pick(nq, wq)]; gsub(/-/, " ", q); title = title " " q }
        title = toupper(substr(title, 1, 1)) substr(title, 2)
        desc = ""
        if (rand() < 0.5) {
            k = 3 + int(rand() * 6)
            for (j = 1; j <= k; j++) desc = desc (j > 1 ? " " : "") (rand() < 0.15 ? obj[pick(no, wo)] : note[pick(nn, wn)])
        }
        completed = rand() < 0.3
        r = rand()
        p = r < 0.40 ? 1 : r < 0.60 ? 2 : r < 0.85 ? 3 : 4
        r = rand()
        ntags = r < 0.25 ? 0 : r < 0.65 ? 1 : r < 0.90 ? 2 : 3
        delete seen
        tags = ""
        has_tag = 0
        for (j = 1; j <= ntags; j++) {
            t = tag[pick(nt, wt)]
            if (t in seen) continue # a repeated tag is dropped, as the server would
            seen[t] = 1
            tags = tags (tags == "" ? "" : ",") "\"" t "\""
            if (t == q_tag) has_tag = 1
        }
        due = "null"
        day = ""
        if (rand() < 0.5) {
            day = today - 365 + int(rand() * 731)
            if (rand() < 0.25) {
                minutes = 480 + 15 * int(rand() * 44)
                due = sprintf("{\"date\":\"%s\",\"time\":\"%02d:%02d\",\"time_zone\":\"%s\"}", ymd(day), int(minutes / 60), minutes % 60, zone[1 + int(rand() * 3)])
            } else {
                due = sprintf("{\"date\":\"%s\"}", ymd(day))
            }
        }
        body = sprintf("{\"title\":\"%s\",\"description\":%s,\"completed\":%s,\"priority\":\"%s\",\"tags\":[%s],\"due\":%s}", title, (desc == "" ? "null" : "\"" desc "\""), (completed ? "true" : "false"), prio[p], tags, due)
        gsub(/\\/, "\\\\", body)
        gsub(/"/, "\\\"", body)
        file = out "/seed-" (i % jobs) ".curl"
        if (sent[file]++) print "next" > file
        print "url = \"" url "\"" > file
        print "header = \"Authorization: Bearer " token "\"" > file
        print "header = \"Content-Type: application/json\"" > file
        print "data = \"" body "\"" > file
        print "output = \"/dev/null\"" > file
        print "write-out = \"%{http_code}\\n\"" > file

        # What each shape must find.
        if (has_tag) { n_tag++; if (!completed) n_tag_open++ }
        if (p == 4) n_high++
        if (day != "" && !completed) {
            # overdue=true&tz=Europe/Berlin: certainly overdue when the due's date is before
            # yesterday, certainly not after tomorrow; in between it depends on the hour.
            if (day < today - 1) n_overdue_lo++
            else if (day <= today + 1) n_overdue_maybe++
        }
        text = tolower(title " " desc)
        if (has_prefix(text, q_a) && has_prefix(text, q_b)) n_search++
        if (day != "" && day >= range_from && day <= range_to) n_range++
    }
    for (file in sent) close(file)
    printf "tag %d %d\n", n_tag, n_tag
    printf "tag-open %d %d\n", n_tag_open, n_tag_open
    printf "high-by-due %d %d\n", n_high, n_high
    printf "overdue %d %d\n", n_overdue_lo, n_overdue_lo + n_overdue_maybe
    printf "search %d %d\n", n_search, n_search
    printf "date-range %d %d\n", n_range, n_range
    printf "by-title %d %d\n", tasks, tasks
    printf "default %d %d\n", tasks, tasks
    printf "# range %s %s\n", ymd(range_from), ymd(range_to)
}
