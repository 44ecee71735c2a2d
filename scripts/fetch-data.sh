#!/usr/bin/env bash
# Puts the real data sets that tests, samples and benchmarks read into <repo>/.data, taken from
# Debian packages without installing anything system-wide:
#   .data/sklearn/{iris.csv,wine_data.csv,breast_cancer.csv,digits.csv.gz}    from python3-sklearn
#   .data/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz        from dataset-fashion-mnist
#   .data/fortunes/{computers,definitions,people,...}  ('%'-separated texts, every category)   from fortunes
#   .data/statsmodels/{sunspots,co2,nile,elnino}/*.csv (time series)          from python3-statsmodels
# When a package is installed on the system, its files are copied from there; otherwise the .deb is
# fetched with `apt-get download` into .data/.debs and unpacked with `dpkg-deb -x`.
# Idempotent: does nothing when every file is present. Silent on success; on failure it says what
# went wrong and what to run, and exits non-zero.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data="$repo/.data"
debs="$data/.debs"

sklearn_package=python3-sklearn
sklearn_source=usr/lib/python3/dist-packages/sklearn/datasets/data
sklearn_files=(iris.csv wine_data.csv breast_cancer.csv digits.csv.gz)

fashion_package=dataset-fashion-mnist
fashion_source=usr/share/datasets/fashion-mnist
fashion_files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

fortunes_package=fortunes
fortunes_source=usr/share/games/fortunes
# The eight benchmark categories, then every other category (the benchmark's pretraining corpus).
fortunes_files=(computers definitions people politics science songs-poems men-women work
    art ascii-art cookie debian disclaimer drugs education ethnic food goedel humorists kids knghtbrd law
    linux linuxcookie love magic medicine miscellaneous news paradoxum perl pets platitudes pratchett
    sports startrek tao translate-me wisdom zippy)

statsmodels_package=python3-statsmodels
statsmodels_source=usr/lib/python3/dist-packages/statsmodels/datasets
statsmodels_files=(sunspots/sunspots.csv co2/co2.csv nile/nile.csv elnino/elnino.csv)

fail() {
    printf '%s\n' "$@" | sed 's/^/fetch-data: /' >&2
    exit 1
}

# True when every file of a set is present and non-empty. Args: folder, file names...
present() {
    local folder=$1 name
    shift
    for name in "$@"; do
        [ -s "$folder/$name" ] || return 1
    done
}

all_present() {
    present "$data/sklearn" "${sklearn_files[@]}" && present "$data/fashion-mnist" "${fashion_files[@]}" \
        && present "$data/fortunes" "${fortunes_files[@]}" && present "$data/statsmodels" "${statsmodels_files[@]}"
}

all_present && exit 0

mkdir -p "$data"
# Several projects may build in parallel and each may start this script: one at a time.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$data/.fetch.lock"
    flock 9
    all_present && exit 0
fi

# Brings PACKAGE's .deb into the cache (a no-op when it is there) and prints its path.
download() {
    local package=$1 existing output staging
    existing=$(find "$debs" -maxdepth 1 -name "${package}_*.deb" -print -quit 2>/dev/null || true)
    if [ -n "$existing" ]; then
        printf '%s\n' "$existing"
        return 0
    fi

    command -v apt-get >/dev/null 2>&1 || fail \
        "apt-get not found: the data sets come from Debian packages ($sklearn_package, $fashion_package, $fortunes_package, $statsmodels_package)." \
        "On a system without apt, copy their files into $data/sklearn and $data/fashion-mnist by hand."

    mkdir -p "$debs"
    staging=$(mktemp -d "$debs/.download.XXXXXX")
    # A failed download usually means the package lists are empty or stale: refresh them when we may.
    if ! output=$(cd "$staging" && apt-get download "$package" 2>&1); then
        if [ "$(id -u)" -eq 0 ]; then
            if ! output=$(apt-get update 2>&1); then
                rm -rf "$staging"
                fail "apt-get update failed:" "$output"
            fi
            if ! output=$(cd "$staging" && apt-get download "$package" 2>&1); then
                rm -rf "$staging"
                fail "apt-get download $package failed, even after apt-get update:" "$output"
            fi
        else
            rm -rf "$staging"
            fail "apt-get download $package failed:" "$output" \
                "The package lists are probably empty or stale. Run:" \
                "    sudo apt-get update && bash $repo/scripts/fetch-data.sh"
        fi
    fi

    existing=$(find "$staging" -maxdepth 1 -name "${package}_*.deb" -print -quit)
    if [ -z "$existing" ]; then
        rm -rf "$staging"
        fail "apt-get download $package reported success but left no .deb file."
    fi
    mv "$existing" "$debs/"
    rm -rf "$staging"
    printf '%s\n' "$debs/$(basename "$existing")"
}

# Fills .data/TARGET with FILES from the installed package or its unpacked .deb.
# Args: package, path of the files inside the package, target folder name, file names...
provide() {
    local package=$1 source=$2 target=$3
    shift 3
    local destination="$data/$target" deb unpacked name output

    present "$destination" "$@" && return 0
    mkdir -p "$destination"

    if present "/$source" "$@"; then
        for name in "$@"; do
            mkdir -p "$(dirname "$destination/$name")"
            cp "/$source/$name" "$destination/$name.part"
            mv "$destination/$name.part" "$destination/$name"
        done
        return 0
    fi

    deb=$(download "$package")
    unpacked=$(mktemp -d "$data/.unpack.XXXXXX")
    if ! output=$(dpkg-deb -x "$deb" "$unpacked" 2>&1); then
        rm -rf "$unpacked"
        rm -f "$deb" # probably truncated: the next run downloads it again
        fail "dpkg-deb -x $deb failed:" "$output"
    fi
    for name in "$@"; do
        if [ ! -s "$unpacked/$source/$name" ]; then
            rm -rf "$unpacked"
            fail "$package no longer ships /$source/$name; update scripts/fetch-data.sh."
        fi
        mkdir -p "$(dirname "$destination/$name")"
        mv "$unpacked/$source/$name" "$destination/$name"
    done
    rm -rf "$unpacked"
}

provide "$sklearn_package" "$sklearn_source" sklearn "${sklearn_files[@]}"
provide "$fashion_package" "$fashion_source" fashion-mnist "${fashion_files[@]}"
provide "$fortunes_package" "$fortunes_source" fortunes "${fortunes_files[@]}"
provide "$statsmodels_package" "$statsmodels_source" statsmodels "${statsmodels_files[@]}"

all_present || fail "some files are still missing under $data; this is a bug in scripts/fetch-data.sh."
