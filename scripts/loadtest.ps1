# Twin of loadtest.sh: load-tests both pools across a few sizes and connection counts, over TCP and UDP, one server
# start per pool configuration, then the same pool over TLS (a second start, with --tls-self-signed): 100 x 64 B,
# 100 x 16 KiB and connect mode (a handshake per connection) beside the same plaintext runs; writes results/<timestamp>/: one JSON report per run, summary.md, throughput.png/.svg
# and latency.png/.svg; with a headless Chromium on PATH, also live-view.png, the admin endpoint's live view
# under load (about 30 s more).
#   scripts/loadtest.ps1 [-Quick] [-Duration SECONDS] [-Out DIR]
# Every run must exit 0, except 1,000 clients on 128 workers: the worker pool serves 128 and queues the rest for
# the whole run by design, so echo-load's exit code 4 (connections that never got a reply) is expected there,
# and only there. Any other failure makes the script exit 1 (3 if a byte came back wrong).
param([switch] $Quick, [double] $Duration = 0, [string] $Out = '')
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'lib/Common.ps1')
Confirm-ScriptArguments $PSCommandPath (@($args) + @($Out | Where-Object { $_ -like '-*' }))

if ($Quick) {
  $configs = @(@('workers', 128), @('executor', 128)); $sizes = @('64', '16KiB'); $conns = @(1, 100, 1000); $udpSizes = @('64'); $udpConns = @(1, 100)
  if ($Duration -eq 0) { $Duration = 2 }; $warmup = 0.5
} else {
  $configs = @(@('workers', 128), @('workers', 1000), @('executor', 128), @('executor', 1000)); $sizes = @('64', '1KiB', '16KiB'); $conns = @(1, 100, 1000); $udpSizes = @('64', '1KiB'); $udpConns = @(1, 100)
  if ($Duration -eq 0) { $Duration = 4 }; $warmup = 1
}
if (-not $Out) { $Out = Join-Path $RepoRoot ('results/' + (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ')) }
New-Item -ItemType Directory -Force -Path $Out | Out-Null
Build-Release

$failed = @(); $mismatch = $false
# One echo-load run against $server, labelled with its pool, its report in $Out/NAME.json and the lines $Pattern
# matches on stderr; an exit code other than 0 and $Expected fails the run (3, a wrong byte, fails the script with 3).
function Invoke-Load([string] $Name, [int] $Expected, [string] $Pattern, [string[]] $Arguments) {
  $report = & dotnet $LoadDll --port $server.Port @Arguments -d $Duration --warmup $warmup --progress 0 `
    --server-pid $server.Process.Id --label "pool=$pool" --label "workers=$workers" --json (Join-Path $Out "$Name.json")
  $rc = $LASTEXITCODE
  if ($rc -ne 0 -and $rc -ne $Expected) { $script:failed += "$Name (exit $rc)" }
  if ($rc -eq 3) { $script:mismatch = $true }
  $report | Where-Object { $_ -match $Pattern } | ForEach-Object { [Console]::Error.WriteLine($_) }
}

foreach ($config in $configs) {
  $pool, $workers = $config
  $server = Start-EchoServer (Join-Path $Out "server-$pool-$workers.log") @('--pool', $pool, '--workers', "$workers", '--max-connections', '1100', '--log-level', 'Warning', '--udp', '--udp-rate-per-ip', '0')
  try {
    [Console]::Error.WriteLine("== pool=$pool workers=$workers on port $($server.Port)")
    foreach ($size in $sizes) {
      foreach ($c in $conns) {
        # More clients than workers: the rest wait in the queue all run long, on purpose (exit code 4).
        $expected = if ($pool -eq 'workers' -and $c -gt $workers) { 4 } else { 0 }
        Invoke-Load "$pool-w$workers-s$size-c$c" $expected '^echo-load|messages|answered|unanswered|latency|errors' @('-c', "$c", '-s', $size)
      }
    }
    # UDP on the same port, through the same pool: ping-pong datagrams, every one answered (exit 0).
    foreach ($size in $udpSizes) {
      foreach ($c in $udpConns) {
        Invoke-Load "$pool-w$workers-udp-s$size-c$c" 0 '^echo-load|messages|datagrams|latency|errors' @('--udp', '-c', "$c", '-s', $size, '--label', 'transport=udp')
      }
    }
    # Connect mode in plaintext, beside its TLS twin below: connect, echo 64 B, close, 50 at a time.
    Invoke-Load "$pool-w$workers-connect-c50" 0 '^echo-load|connections  |latency|errors' @('--mode', 'connect', '-c', '50', '-s', '64')
  } finally {
    Stop-EchoServer $server
  }

  # TLS through the same pool (a self-signed certificate the server makes at start): 100 connections at 64 B and
  # 16 KiB, and connect mode, where each connection makes its own handshake. Every run exits 0.
  $server = Start-EchoServer (Join-Path $Out "server-$pool-$workers-tls.log") @('--pool', $pool, '--workers', "$workers", '--max-connections', '1100', '--log-level', 'Warning', '--tls-self-signed')
  try {
    [Console]::Error.WriteLine("== pool=$pool workers=$workers over TLS on port $($server.Port)")
    $tlsLines = '^echo-load|messages|answered|connections  |client |tls |latency|errors'
    Invoke-Load "$pool-w$workers-tls-s64-c100" 0 $tlsLines @('--tls', '--insecure', '-c', '100', '-s', '64', '--label', 'transport=tls')
    Invoke-Load "$pool-w$workers-tls-s16KiB-c100" 0 $tlsLines @('--tls', '--insecure', '-c', '100', '-s', '16KiB', '--label', 'transport=tls')
    Invoke-Load "$pool-w$workers-tls-connect-c50" 0 $tlsLines @('--tls', '--insecure', '--mode', 'connect', '-c', '50', '-s', '64', '--label', 'transport=tls')
  } finally {
    Stop-EchoServer $server
  }
}

# The live view under load: 110 clients streaming 16 KiB and 40 connecting, echoing once and closing, against
# 128 workers, so that the grid, the queue and the charts all move; a screenshot after 10 s (the load runs
# 30 s: Chromium is slow to start on a busy machine).
$browser = Find-Chromium
if ($browser) {
  $server = Start-EchoServer (Join-Path $Out 'server-live-view.log') @('--pool', 'workers', '--workers', '128', '--max-connections', '1100', '--admin-port', '0', '--log-level', 'Warning')
  try {
    $admin = Get-AdminPort $server
    [Console]::Error.WriteLine('== live view: pool=workers workers=128, 110 streaming + 40 connecting clients')
    $loads = @(
      (Start-Process dotnet -ArgumentList @($LoadDll, '--port', "$($server.Port)", '-c', '110', '-s', '16KiB', '-d', '30', '--progress', '0') -PassThru -NoNewWindow -RedirectStandardOutput (Join-Path $Out 'live-view-streaming.txt')),
      (Start-Process dotnet -ArgumentList @($LoadDll, '--port', "$($server.Port)", '--mode', 'connect', '-c', '40', '-d', '30', '--progress', '0') -PassThru -NoNewWindow -RedirectStandardOutput (Join-Path $Out 'live-view-connecting.txt')))
    Start-Sleep -Seconds 10
    Save-LiveViewScreenshot $browser $admin (Join-Path $Out 'live-view.png')
    $loads | ForEach-Object { $_.WaitForExit() }
  } finally {
    Stop-EchoServer $server
  }
} else {
  [Console]::Error.WriteLine('no live-view.png: no headless Chromium on PATH (apt-get install chromium-headless-shell)')
}

& dotnet $LoadDll summarize $Out --title "EchoServer load test ($((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd')), $([Environment]::ProcessorCount) cores)" | Out-Null
Get-Content (Join-Path $Out 'summary.md')
Write-Output "results: $Out (summary.md, throughput.png/.svg, latency.png/.svg, live-view.png when Chromium is present, one JSON per run, server logs)"
if ($mismatch) { [Console]::Error.WriteLine('loadtest.ps1: some bytes came back wrong (see the reports)'); exit 3 }
if ($failed.Count -gt 0) { [Console]::Error.WriteLine("loadtest.ps1: runs that failed: $($failed -join ' ')"); exit 1 }
