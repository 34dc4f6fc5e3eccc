# Shared by the PowerShell scripts in scripts/ (twins of lib/common.sh): build once, start a server on a
# free port, stop it cleanly.
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:ServerDll = Join-Path $RepoRoot 'src/EchoServer/bin/Release/net10.0/echo-server.dll'
$script:LoadDll = Join-Path $RepoRoot 'src/EchoServer.LoadTest/bin/Release/net10.0/echo-load.dll'

# Handles what a script's param() block did not take ($args, and a flag bound to a string parameter by
# position): --help (or -h, -Help) prints the script's header comment and exits 0; anything else is one line
# and exit 2.
function Confirm-ScriptArguments([string] $Script, [object[]] $Rest) {
  $name = Split-Path -Leaf $Script
  if (@($Rest | Where-Object { $_ -in '--help', '-help', '-h', '-?' }).Count -gt 0) {
    foreach ($line in Get-Content $Script) {
      if ($line -notmatch '^#') { break }
      $line -replace '^# ?', ''
    }
    exit 0
  }
  if (@($Rest).Count -gt 0) {
    [Console]::Error.WriteLine("${name}: unknown argument '$(@($Rest)[0])' (see --help)")
    exit 2
  }
}

function Assert-Dotnet {
  if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) {
    [Console]::Error.WriteLine("'dotnet' is not on PATH; install the .NET 10 SDK.")
    exit 127
  }
}

function Build-Release {
  Assert-Dotnet
  [Console]::Error.WriteLine('building (Release)...')
  foreach ($project in 'src/EchoServer/EchoServer.csproj', 'src/EchoServer.LoadTest/EchoServer.LoadTest.csproj') {
    $log = & dotnet build (Join-Path $RepoRoot $project) -c Release -nologo 2>&1
    if ($LASTEXITCODE -ne 0) { $log | ForEach-Object { [Console]::Error.WriteLine($_) }; exit 1 }
  }
}

# Starts echo-server on a free port with the given options; returns @{ Process; Port; Log }.
# With -Executable (a published echo-server, scripts/publish.ps1), that runs instead of the JIT build.
function Start-EchoServer([string] $Log, [string[]] $Options, [string] $Executable = '') {
  $errLog = "$Log.stderr"
  if ($Executable) { $file = $Executable; $arguments = @('--port', '0') + $Options }
  else { $file = 'dotnet'; $arguments = @($ServerDll, '--port', '0') + $Options }
  $process = Start-Process $file -ArgumentList $arguments -RedirectStandardOutput $Log -RedirectStandardError $errLog -PassThru -NoNewWindow
  for ($i = 0; $i -lt 200; $i++) {
    if (Test-Path $Log) {
      $match = Select-String -Path $Log -Pattern 'Listening on \S+:(\d+)' | Select-Object -First 1
      if ($match) { return @{ Process = $process; Port = [int]$match.Matches[0].Groups[1].Value; Log = $Log } }
    }
    if ($process.HasExited) { break }
    Start-Sleep -Milliseconds 100
  }
  [Console]::Error.WriteLine("server did not start; its log ($Log):")
  Get-Content $Log, $errLog -ErrorAction SilentlyContinue | ForEach-Object { [Console]::Error.WriteLine($_) }
  exit 1
}

# SIGTERM on Unix (graceful drain), then wait for the exit.
function Stop-EchoServer($Server) {
  if (-not $Server -or $Server.Process.HasExited) { return }
  if ($IsLinux -or $IsMacOS) { & kill -TERM $Server.Process.Id } else { Stop-Process -Id $Server.Process.Id }
  $Server.Process.WaitForExit(60000) | Out-Null
}

# The admin endpoint's port of a server started with --admin-port 0.
function Get-AdminPort($Server) {
  for ($i = 0; $i -lt 100; $i++) {
    $match = Select-String -Path $Server.Log -Pattern 'Admin endpoint on http://\S+:(\d+)' | Select-Object -First 1
    if ($match) { return [int]$match.Matches[0].Groups[1].Value }
    Start-Sleep -Milliseconds 100
  }
  throw "no admin endpoint line in $($Server.Log)"
}

# The path of a headless Chromium, or $null.
function Find-Chromium {
  foreach ($name in 'chromium-headless-shell', 'chromium', 'chromium-browser', 'chrome', 'msedge') {
    $command = Get-Command $name -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($command) { return $command.Source }
  }
  return $null
}

# A screenshot of the live view (GET / on the admin endpoint) as a PNG.
function Save-LiveViewScreenshot([string] $Browser, [int] $AdminPort, [string] $Png) {
  $arguments = @('--disable-gpu', '--no-first-run', '--hide-scrollbars', '--window-size=1200,700', '--virtual-time-budget=3000', "--screenshot=$Png")
  if ($IsLinux -and (& id -u) -eq '0') { $arguments = @('--no-sandbox') + $arguments } # Chromium refuses to run as root with its sandbox
  if ($Browser -notlike '*headless-shell*') { $arguments = @('--headless') + $arguments }
  & $Browser @arguments "http://127.0.0.1:$AdminPort/" *> $null
  if (Test-Path $Png) { [Console]::Error.WriteLine("live view: $Png") } else { [Console]::Error.WriteLine("no live-view.png: $Browser failed") }
}
